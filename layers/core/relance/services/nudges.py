"""Restart a customer's dunning execution when something makes an earlier action due or a planned one moot.

New or changed invoice, payment, workflow edit or reassignment, pause/resume, a task done, a
change of the send window. The customer item names its current execution; a new name is set before the new
execution starts, so any older execution ends at its next step even if stopping it failed.
"""

from __future__ import annotations

import json
from typing import Any

from relance import dunning_runs, queues
from relance.ids import new_id
from relance.observability import logger
from relance.settings import get_settings
from relance.storage import customers as customer_store

NUDGES_PER_MESSAGE = 100


def nudge(org_id: str, customer_id: str) -> str | None:
    """Start the customer's run afresh (stopping the previous execution): the Plan function plans it and
    starts its execution, named as returned (None: no run, the customer is under no workflow)."""
    customer = customer_store.get_customer(org_id, customer_id, consistent=True)
    if not dunning_runs.enabled() or customer is None:
        return None
    name = f"{customer_id}-{new_id('x').removeprefix('x_')}"
    previous = customer.get("execution")
    customer_store.update_dunning(org_id, customer_id, {"execution": name})
    if previous and not dunning_runs.stop(previous, cause="nudged"):
        logger.debug("previous execution already gone", execution=previous)
    if not customer.get("dunningPlanId"):
        return None
    dunning_runs.plan_run(name, org_id, customer_id)
    return name


def nudge_later(org_id: str, customer_ids: list[str]) -> None:
    """Nudge many customers after the request has answered (a CSV import): 100 a message on the
    nudge queue, ten messages a call; without a queue (a function that has none), nudge them now."""
    queue = get_settings().nudge_queue_url
    if not queue:
        for customer_id in customer_ids:
            nudge(org_id, customer_id)
        return
    bodies = [
        json.dumps({"organizationId": org_id, "customerIds": customer_ids[start : start + NUDGES_PER_MESSAGE]})
        for start in range(0, len(customer_ids), NUDGES_PER_MESSAGE)
    ]
    for body in queues.send_all(queue, bodies):  # not queued: nudged now rather than never
        for customer_id in json.loads(body)["customerIds"]:
            nudge(org_id, customer_id)


def nudge_message(body: dict[str, Any]) -> int:
    """The nudge queue's consumer: nudge each customer of one message; how many."""
    customer_ids = [str(c) for c in body["customerIds"]]
    for customer_id in customer_ids:
        nudge(str(body["organizationId"]), customer_id)
    return len(customer_ids)


def nudge_organization(org_id: str) -> int:
    """Restart every customer of the organization that is under a workflow (its send window
    changed, automatic actions back on); how many. One Query of the organization's customers, then
    their nudges through the nudge queue (``nudge_later``): the request answers without waiting for
    thousands of executions to start."""
    under_workflow = [c["id"] for c in customer_store.list_customers(org_id) if c.get("dunningPlanId")]
    nudge_later(org_id, under_workflow)
    return len(under_workflow)
