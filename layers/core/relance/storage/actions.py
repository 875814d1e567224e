"""Dunning actions: planned, then sent, skipped, postponed, failed, or done (tasks and calls)."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import get, of_customer, under_prefix
from relance.storage.table import put, put_if, update, update_if


def get_action(org_id: str, action_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``ACT#<id>``, strongly consistent (its status guards the send)."""
    return get(keys.action(org_id, action_id), consistent=True)


def actions_of(org_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#CUS#<customer>``, ``ACT#``: a customer's actions by scheduled time."""
    return of_customer(org_id, customer_id, "ACT")


def _item(org_id: str, action: dict[str, Any]) -> dict[str, Any]:
    index = keys.record_index_entry(org_id, action["customerId"], "ACT", action["scheduledAt"], action["id"])
    return {**keys.action(org_id, action["id"]), **index, **action}


def create_if_absent(org_id: str, action: dict[str, Any]) -> bool:
    """Store a planned action unless one with its id exists (a retried Plan); True if created."""
    return put_if(_item(org_id, action), "attribute_not_exists(PK)")


_PLANNABLE = "attribute_not_exists(PK) OR #s IN (:planned, :replanned)"
_PLANNABLE_VALUES = {":planned": "planned", ":replanned": "replanned"}


def plan(org_id: str, action: dict[str, Any]) -> bool:
    """Store the planned action, replacing one still planned or sent back for replanning; never a final one.
    False when an action of that id is already final."""
    return put_if(_item(org_id, action), _PLANNABLE, values=_PLANNABLE_VALUES, names={"#s": "status"})


def plan_entry(org_id: str, action: dict[str, Any]) -> dict[str, Any]:
    """``plan`` as a transaction entry (cancelled, first reason, when the action is already final)."""
    return put(_item(org_id, action), condition=_PLANNABLE, values=_PLANNABLE_VALUES, names={"#s": "status"})


def _move(from_status: str, to_status: str, fields: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    names = [f"#f{i}" for i in range(len(fields))]
    sets = ", ".join(["#s = :to", *(f"{n} = :v{i}" for i, n in enumerate(names))])
    values = {":from": from_status, ":to": to_status, **{f":v{i}": v for i, v in enumerate(fields.values())}}
    table_names = {"#s": "status", **{n: k for n, k in zip(names, fields, strict=True)}}
    return f"SET {sets}", values, table_names


def move(org_id: str, action_id: str, from_status: str, to_status: str, fields: dict[str, Any]) -> bool:
    """Change an action's status only if it still has ``from_status``; True if it did."""
    expression, values, names = _move(from_status, to_status, fields)
    return update_if(keys.action(org_id, action_id), expression, "#s = :from", values, names)


def move_entry(org_id: str, action_id: str, from_status: str, to_status: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``move`` as a transaction entry (cancelled when the action no longer has ``from_status``)."""
    expression, values, names = _move(from_status, to_status, fields)
    return update(keys.action(org_id, action_id), expression, names=names, values=values, condition="#s = :from")


def actions_of_organization(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``ACT#``: every action of the organization."""
    return under_prefix(keys.action(org_id, ""))


def raise_status(org_id: str, action_id: str, field: str, status: str, rank: int, email: str | None = None) -> bool:
    """Move a delivery status forward only (an "open" after a "bounce", or a repeat, changes nothing)."""
    path = "#r.#e" if email else "#r"
    status_path = "#s.#e" if email else "#s"
    names = {"#r": f"{field}Rank", "#s": field, **({"#e": email} if email else {})}
    key = keys.action(org_id, action_id)
    # The maps must exist before a key in them can be set; no action, nothing to raise.
    if email and not update_if(
        key,
        "SET #r = if_not_exists(#r, :empty), #s = if_not_exists(#s, :empty)",
        "attribute_exists(PK)",
        {":empty": {}},
        {"#r": names["#r"], "#s": names["#s"]},
    ):
        return False
    return update_if(
        key,
        f"SET {path} = :rank, {status_path} = :status",
        f"attribute_exists(PK) AND (attribute_not_exists({path}) OR {path} < :rank)",
        {":rank": rank, ":status": status},
        names,
    )
