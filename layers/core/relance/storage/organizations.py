"""Organizations and their API keys."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.table import put, query_all, table, transact, without_keys


def create(org: dict[str, Any], api_key: dict[str, Any], secret_hash: str, extra: list[dict[str, Any]]) -> None:
    """Write a new organization, its first API key and ``extra`` items together, or none."""
    org_id = org["id"]
    key = keys.organization(org_id)
    org_item = {
        **key,
        **keys.organization_index_entry(org_id),
        **keys.in_directory(org_id, key),
        **org,
        "directoryVersion": keys.DIRECTORY_VERSION,
    }
    key_item = _api_key_item(org_id, secret_hash, api_key)
    items = [org_item, key_item, *extra]
    transact([put(item, condition="attribute_not_exists(PK)") for item in items])


def get(org_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<id>``/``ORG``: the organization, or None."""
    item = table().get_item(Key=keys.organization(org_id)).get("Item")
    return without_keys(item) if item else None


def list_all() -> list[dict[str, Any]]:
    """Query GSI1 ``ORGS``: every organization (maintenance and nightly jobs only)."""
    condition = KeyCondition("GSI1PK").eq(keys.organizations_index()["GSI1PK"])
    return [without_keys(item) for item in query_all(IndexName="GSI1", KeyConditionExpression=condition)]


def get_api_key(org_id: str, secret_hash: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<id>``/``APIKEY#<sha256>``: the key's record, or None."""
    item = table().get_item(Key=keys.api_key(org_id, secret_hash)).get("Item")
    return without_keys(item) if item else None


def put_api_key(org_id: str, secret_hash: str, record: dict[str, Any]) -> None:
    table().put_item(Item=_api_key_item(org_id, secret_hash, record))


def _api_key_item(org_id: str, secret_hash: str, record: dict[str, Any]) -> dict[str, Any]:
    key = keys.api_key(org_id, secret_hash)
    return {**key, **keys.in_directory(org_id, key), **record}


def list_api_keys(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<id>``, SK begins with ``APIKEY#``."""
    prefix = keys.api_keys_prefix(org_id)
    condition = KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"])
    return [
        {**without_keys(i), "secretHash": i["SK"].split("#", 1)[1]} for i in query_all(KeyConditionExpression=condition)
    ]


def delete_api_key(org_id: str, secret_hash: str) -> None:
    table().delete_item(Key=keys.api_key(org_id, secret_hash))


def rename(org_id: str, name: str) -> None:
    table().update_item(
        Key=keys.organization(org_id),
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": name},
        ConditionExpression="attribute_exists(PK)",
    )


def update_settings(org_id: str, settings: dict[str, Any]) -> None:
    table().update_item(
        Key=keys.organization(org_id),
        UpdateExpression="SET settings = :s",
        ExpressionAttributeValues={":s": settings},
        ConditionExpression="attribute_exists(PK)",
    )
