"""Contacts of a customer (one main contact each) and the positions they hold.

Account managers read the contacts of their customers; adding, changing, deleting a contact or
clearing its bounce is for admins (403), as for the customer itself.
"""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.domain.customers import (
    Contact,
    ContactFields,
    ContactPatch,
    Position,
    PositionFields,
)
from relance.domain.organizations import Principal
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.services import synced_fields, timeline
from relance.services.access import customer_item, require_admin
from relance.storage import contacts as store
from relance.storage import keys
from relance.storage.records import under_prefix
from relance.storage.table import delete, transact, update


def to_contact(item: dict[str, Any], main_contact_id: str | None) -> Contact:
    return Contact.model_validate(
        {
            **{k: None for k in ("firstName", "lastName", "phone", "jobTitle", "positionId", "invalidSince")},
            **item,
            "isMain": item["id"] == main_contact_id,
            "invalid": item.get("invalid", False),
        }
    )


def _check_position(principal: Principal, position_id: str | None) -> None:
    if position_id and store.get_position(principal.organization_id, position_id) is None:
        raise Invalid("unknown position", {"positionId": "no such position"})


def _visible_contact(principal: Principal, contact_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    item = store.get_contact(principal.organization_id, contact_id)
    if item is None:
        raise NotFound("contact not found")
    try:
        customer = customer_item(principal, item["customerId"])
    except NotFound as error:
        raise NotFound("contact not found") from error
    return item, customer


def _main_contact_entry(principal: Principal, customer_id: str, contact_id: str | None) -> dict[str, Any]:
    return main_contact_entry(principal.organization_id, customer_id, contact_id)


def main_contact_entry(org_id: str, customer_id: str, contact_id: str | None) -> dict[str, Any]:
    """The transaction entry that makes ``contact_id`` the customer's main contact."""
    return update(
        keys.customer(org_id, customer_id),
        "SET mainContactId = :c",
        values={":c": contact_id},
        condition="attribute_exists(PK)",
    )


def list_contacts(principal: Principal, customer_id: str) -> list[Contact]:
    customer = customer_item(principal, customer_id)
    items = store.contacts_of(principal.organization_id, customer_id)
    return [to_contact(i, customer.get("mainContactId")) for i in items]


def new_contact_item(customer_id: str, fields: ContactFields, now: str) -> dict[str, Any]:
    return {
        **fields.model_dump(by_alias=True, mode="json", exclude={"is_main"}),
        "id": new_id("con"),
        "customerId": customer_id,
        "invalid": False,
        "createdAt": now,
    }


def create_contact(principal: Principal, customer_id: str, fields: ContactFields) -> Contact:
    require_admin(principal)
    customer = customer_item(principal, customer_id, consistent=True)
    _check_position(principal, fields.position_id)
    item = new_contact_item(customer_id, fields, clock.now().isoformat())
    is_main = fields.is_main or not customer.get("mainContactId")  # the first contact is the main one
    entries = [store.put_contact_entry(principal.organization_id, item, new=True)]
    if is_main:
        entries.append(_main_contact_entry(principal, customer_id, item["id"]))
    transact(entries)
    return to_contact(item, item["id"] if is_main else customer.get("mainContactId"))


def get_contact(principal: Principal, contact_id: str) -> Contact:
    item, customer = _visible_contact(principal, contact_id)
    return to_contact(item, customer.get("mainContactId"))


def update_contact(principal: Principal, contact_id: str, patch: ContactPatch) -> Contact:
    require_admin(principal)
    item, customer = _visible_contact(principal, contact_id)
    changes = patch.model_dump(by_alias=True, mode="json", exclude_unset=True, exclude={"is_main"})
    synced_fields.check_change(principal, item, changes)
    if "email" in changes and changes["email"] is None:
        raise Invalid("a contact needs an email", {"email": "required"})
    _check_position(principal, changes.get("positionId"))
    if changes.get("email") and changes["email"] != item["email"]:
        changes.update(invalid=False, invalidSince=None, invalidReason=None)  # a new address is untested
    after = {**item, **changes}
    main = customer.get("mainContactId")
    entries = [store.put_contact_entry(principal.organization_id, after, new=False)]
    if patch.is_main is True and main != contact_id:
        entries.append(_main_contact_entry(principal, customer["id"], contact_id))
        main = contact_id
    elif patch.is_main is False and main == contact_id:
        raise Invalid("a customer keeps a main contact: make another contact main instead", {"isMain": "required"})
    transact(entries)
    return to_contact(after, main)


def delete_contact(principal: Principal, contact_id: str) -> None:
    require_admin(principal)
    item, customer = _visible_contact(principal, contact_id)
    synced_fields.check_managed(principal, item, "contact")
    entries = [delete(keys.contact(principal.organization_id, contact_id))]
    if customer.get("mainContactId") == contact_id:
        others = [c for c in store.contacts_of(principal.organization_id, customer["id"]) if c["id"] != contact_id]
        entries.append(_main_contact_entry(principal, customer["id"], others[0]["id"] if others else None))
    transact(entries)


def mark_valid(principal: Principal, contact_id: str) -> Contact:
    """Clear a bounce: the address is used again until it bounces again (admins: a bounced address
    written to again harms the organization's sending reputation)."""
    require_admin(principal)
    item, customer = _visible_contact(principal, contact_id)
    after = {**item, "invalid": False, "invalidSince": None, "invalidReason": None}
    store.save_contact(principal.organization_id, after)
    if item.get("invalid"):
        timeline.record_event(
            principal.organization_id,
            customer["id"],
            clock.now().isoformat(),
            {
                "event": "contact_validated",
                "contactId": contact_id,
                "email": item["email"],
                "was": item.get("invalidReason"),
                "by": principal.principal_id,
            },
        )
    return to_contact(after, customer.get("mainContactId"))


# ---------------------------------------------------------------- positions


def list_positions(principal: Principal) -> list[Position]:
    return [Position.model_validate(p) for p in store.positions(principal.organization_id)]


def create_position(principal: Principal, fields: PositionFields) -> Position:
    require_admin(principal)
    position = Position(id=new_id("pos"), name=fields.name)
    store.save_position(principal.organization_id, position.model_dump())
    return position


def rename_position(principal: Principal, position_id: str, fields: PositionFields) -> Position:
    require_admin(principal)
    if store.get_position(principal.organization_id, position_id) is None:
        raise NotFound("position not found")
    position = Position(id=position_id, name=fields.name)
    store.save_position(principal.organization_id, position.model_dump())
    return position


def delete_position(principal: Principal, position_id: str, move_to: str | None) -> int:
    """Delete a position, moving its contacts to ``move_to`` or leaving them without one."""
    require_admin(principal)
    org_id = principal.organization_id
    if store.get_position(org_id, position_id) is None:
        raise NotFound("position not found")
    if move_to is not None and (move_to == position_id or store.get_position(org_id, move_to) is None):
        raise Invalid("cannot move contacts there", {"moveTo": "another existing position is required"})
    addressing = sorted(
        str(w.get("name"))
        for w in under_prefix(keys.workflows_prefix(org_id))
        if any(position_id in step.get(field, []) for step in w.get("steps", []) for field in ("to", "cc"))
    )
    if addressing:
        raise Conflict(
            f"workflows send to this position: {', '.join(addressing)}; change their steps first",
            {"position": "addressed by a workflow's steps"},
        )
    moved = store.contacts_in_position(org_id, position_id)
    for contact in moved:
        store.save_contact(org_id, {**contact, "positionId": move_to})
    transact([delete(keys.position(org_id, position_id))])
    return len(moved)
