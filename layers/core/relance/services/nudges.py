"""Restart a customer's dunning execution when something makes an earlier action due or a planned one moot.

New or changed invoice, payment, workflow edit or reassignment, pause/resume, a task done, a
change of the send window. The customer item names its current execution; a new name is set before the new
execution starts, so any older execution ends at its next step even if stopping it failed.
"""

from __future__ import annotations

import json

from relance.aws import client
from relance.ids import new_id
from relance.observability import logger
from relance.settings import get_settings
from relance.storage import customers as customer_store


def nudge(org_id: str, customer_id: str) -> str | None:
    """Start the customer's execution afresh (stopping the previous one); its name, or None."""
    arn = get_settings().dunning_state_machine_arn
    customer = customer_store.get_customer(org_id, customer_id, consistent=True)
    if not arn or customer is None:
        return None
    name = f"{customer_id}-{new_id('x').removeprefix('x_')}"
    previous = customer.get("execution")
    customer_store.update_dunning(org_id, customer_id, {"execution": name})
    sfn = client("stepfunctions")
    if previous:
        try:
            sfn.stop_execution(executionArn=execution_arn(arn, previous), cause="nudged")
        except sfn.exceptions.ExecutionDoesNotExist:
            logger.debug("previous execution already gone", execution=previous)
    if not customer.get("dunningPlanId"):
        return None
    sfn.start_execution(
        stateMachineArn=arn, name=name, input=json.dumps({"organizationId": org_id, "customerId": customer_id})
    )
    return name


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def nudge_organization(org_id: str) -> int:
    """Restart every customer of the organization that is under a workflow (its send window
    changed); how many. One Query of the organization's customers, then one nudge each."""
    under_workflow = [c for c in customer_store.list_customers(org_id) if c.get("dunningPlanId")]
    for customer in under_workflow:
        nudge(org_id, customer["id"])
    return len(under_workflow)
