"""Contacts (listed under their customer) and positions (per organization)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.records import get, of_customer, under_prefix
from relance.storage.table import put, query_all, table, without_keys


def contact_item(org_id: str, contact: dict[str, Any]) -> dict[str, Any]:
    index = keys.record_index_entry(org_id, contact["customerId"], "CON", contact["createdAt"], contact["id"])
    by_mail = keys.contact_mail_index_entry(org_id, contact["email"], contact["id"])
    return {**keys.contact(org_id, contact["id"]), **index, **by_mail, **contact}


def get_contact(org_id: str, contact_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``CON#<id>``."""
    return get(keys.contact(org_id, contact_id))


def contacts_of(org_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#CUS#<customer>``, ``CON#``."""
    return of_customer(org_id, customer_id, "CON")


def contacts_by_mail(org_id: str, domain: str, email: str | None = None) -> list[dict[str, Any]]:
    """Query GSI2 ``ORG#<org>#MAILDOMAIN#<domain>`` (SK begins with ``<email>#`` for one address):
    ``id``, ``customerId`` and ``email`` of the contacts with that address, or of that domain."""
    condition = KeyCondition("GSI2PK").eq(keys.contacts_of_mail_domain(org_id, domain))
    if email:
        condition = condition & KeyCondition("GSI2SK").begins_with(f"{email.lower()}#")
    return [without_keys(i) for i in query_all(IndexName="GSI2", KeyConditionExpression=condition)]


def contacts_of_organization(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``CON#``: every contact of the organization (imports)."""
    return under_prefix(keys.contact(org_id, ""))


def contacts_by_customer(org_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every contact of the organization (``contacts_of_organization``), by customer, each customer's
    in the order ``contacts_of`` gives them: oldest first."""
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for contact in sorted(contacts_of_organization(org_id), key=lambda c: (c["createdAt"], c["id"])):
        by_customer.setdefault(contact["customerId"], []).append(contact)
    return by_customer


def save_contact(org_id: str, contact: dict[str, Any]) -> None:
    table().put_item(Item=contact_item(org_id, contact))


def put_contact_entry(org_id: str, contact: dict[str, Any], *, new: bool) -> dict[str, Any]:
    return put(contact_item(org_id, contact), condition="attribute_not_exists(PK)" if new else "attribute_exists(PK)")


def delete_contacts(org_id: str, contact_ids: list[str]) -> None:
    """Delete contacts (and so their GSI1 and GSI2 entries) in batches."""
    with table().batch_writer() as batch:
        for contact_id in contact_ids:
            batch.delete_item(Key=keys.contact(org_id, contact_id))


def contacts_in_position(org_id: str, position_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>`` SK ``CON#…`` filtered on the position (position maintenance only)."""
    prefix = keys.contact(org_id, "")
    condition = KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"])
    items = query_all(KeyConditionExpression=condition, FilterExpression=Attr("positionId").eq(position_id))
    return [without_keys(i) for i in items]


def get_position(org_id: str, position_id: str) -> dict[str, Any] | None:
    return get(keys.position(org_id, position_id))


def positions(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``POS#``."""
    return under_prefix(keys.positions_prefix(org_id))


def position_item(org_id: str, position: dict[str, Any]) -> dict[str, Any]:
    key = keys.position(org_id, position["id"])
    return {**key, **keys.in_directory(org_id, key), **position}


def save_position(org_id: str, position: dict[str, Any]) -> None:
    table().put_item(Item=position_item(org_id, position))
