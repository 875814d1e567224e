"""Organizations and their API keys."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition
from boto3.dynamodb.types import TypeSerializer

from relance.aws import client
from relance.settings import get_settings
from relance.storage import keys
from relance.storage.table import table, without_keys


def create(org: dict[str, Any], api_key: dict[str, Any], secret_hash: str) -> None:
    """Write a new organization and its first API key together, or neither."""
    serialize = TypeSerializer().serialize
    org_id = org["id"]
    org_item = {**keys.organization(org_id), **keys.organization_index_entry(org_id), **org}
    key_item = {**keys.api_key(org_id, secret_hash), **api_key}
    name = get_settings().table_name
    client("dynamodb").transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": name,
                    "Item": {k: serialize(v) for k, v in item.items()},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
            for item in (org_item, key_item)
        ]
    )


def get(org_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<id>``/``ORG``: the organization, or None."""
    item = table().get_item(Key=keys.organization(org_id)).get("Item")
    return without_keys(item) if item else None


def list_all() -> list[dict[str, Any]]:
    """Query GSI1 ``ORGS``: every organization (maintenance and nightly jobs only)."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "IndexName": "GSI1",
        "KeyConditionExpression": KeyCondition("GSI1PK").eq(keys.organizations_index()["GSI1PK"]),
    }
    while True:
        page = table().query(**kwargs)
        items.extend(without_keys(item) for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_api_key(org_id: str, secret_hash: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<id>``/``APIKEY#<sha256>``: the key's record, or None."""
    item = table().get_item(Key=keys.api_key(org_id, secret_hash)).get("Item")
    return without_keys(item) if item else None
