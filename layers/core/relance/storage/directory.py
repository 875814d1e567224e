"""Reads of the web app's screens: an organization's directory (the organization, users, saved views,
workflows, custom fields, positions, API keys), and everything filed under one customer — each in one
Query."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import query_all, update_if, without_keys

KINDS = ("ORG", "USER", "VIEW", "WF", "CF", "POS", "APIKEY")


def directory(org_id: str) -> dict[str, list[dict[str, Any]]]:
    """One Query of GSI3 ``ORG#<org>#DIRECTORY``: ``{"ORG": [org], "USER": [...], "VIEW": [...], "WF": [...],
    "CF": [...], "POS": [...], "APIKEY": [...]}``. An organization written before that index, or before
    the directory's last new kind (``keys.DIRECTORY_VERSION``), has its directory placed first (once:
    ``ORG`` is placed last with the version, so a directory whose ``ORG`` has it is whole)."""
    found = _directory(org_id)
    if not found["ORG"] or found["ORG"][0].get("directoryVersion", 1) < keys.DIRECTORY_VERSION:
        place_directory(org_id)
        found = _directory(org_id)
    return found


def _directory(org_id: str) -> dict[str, list[dict[str, Any]]]:
    condition = KeyCondition("GSI3PK").eq(keys.directory(org_id))
    found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    for item in query_all(IndexName="GSI3", KeyConditionExpression=condition):
        kind = str(item["GSI3SK"]).split("#", 1)[0]
        if kind in found:
            found[kind].append(without_keys(item))
    return found


def place_directory(org_id: str) -> int:
    """Give the directory's items written before GSI3 their keys (Query ``ORG#<org>`` per prefix, filtered
    on a missing ``GSI3PK``; UpdateItem each if it still exists), the organization last; how many."""
    placed = 0
    for prefix in keys.DIRECTORY_PREFIXES:
        condition = KeyCondition("PK").eq(f"ORG#{org_id}") & KeyCondition("SK").begins_with(prefix)
        unplaced = {"FilterExpression": Attr("GSI3PK").not_exists(), "ProjectionExpression": "PK, SK"}
        for item in query_all(KeyConditionExpression=condition, **unplaced):
            placed += _place(org_id, {"PK": item["PK"], "SK": item["SK"]})
    return placed + _place_organization(org_id)


def _place_organization(org_id: str) -> int:
    key = keys.organization(org_id)
    entry = keys.in_directory(org_id, key)
    values = {":pk": entry["GSI3PK"], ":sk": entry["GSI3SK"], ":v": keys.DIRECTORY_VERSION}
    placed = "SET GSI3PK = :pk, GSI3SK = :sk, directoryVersion = :v"
    older = (
        "attribute_exists(PK) AND (attribute_not_exists(GSI3PK) OR attribute_not_exists(directoryVersion)"
        " OR directoryVersion < :v)"
    )
    return int(update_if(key, placed, older, values))


def _place(org_id: str, key: keys.Key) -> int:
    entry = keys.in_directory(org_id, key)
    values = {":pk": entry["GSI3PK"], ":sk": entry["GSI3SK"]}
    return int(
        update_if(
            key, "SET GSI3PK = :pk, GSI3SK = :sk", "attribute_exists(PK) AND attribute_not_exists(GSI3PK)", values
        )
    )


def customer_records(org_id: str, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """One Query of GSI1 ``ORG#<org>#CUS#<customer>``, whatever the sort key: the customer itself (``CUS``)
    and everything filed under it (contacts, invoices, payments, credit notes, refunds, actions, notes),
    by kind, oldest first."""
    condition = KeyCondition("GSI1PK").eq(keys.customer_records(org_id, customer_id))
    found: dict[str, list[dict[str, Any]]] = {}
    for item in query_all(IndexName="GSI1", KeyConditionExpression=condition):
        kind = str(item["GSI1SK"]).split("#", 1)[0]
        found.setdefault(kind, []).append(without_keys(item))
    return found
