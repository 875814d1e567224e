"""Portal payments through Stripe Checkout: what each one pays and how far it got."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.conditions import Key as KeyCondition
from botocore.exceptions import ClientError

from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import query_all, table, update_if


def create(org_id: str, checkout: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``CHK#<checkout>`` (new ids only)."""
    table().put_item(
        Item={**keys.checkout(org_id, checkout["id"]), **checkout}, ConditionExpression="attribute_not_exists(PK)"
    )


def get_checkout(org_id: str, checkout_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``CHK#<checkout>``, strongly consistent (webhooks follow each other closely)."""
    return get(keys.checkout(org_id, checkout_id), consistent=True)


def paid_checkout_ids(org_id: str) -> list[str]:
    """Query ``ORG#<org>``, SK begins with ``CHK#``, filtered on ``status`` ``paid``: the portal checkouts
    that recorded a payment (analytics tells online payments from recorded ones with them)."""
    prefix = keys.checkout(org_id, "")
    items = query_all(
        KeyConditionExpression=KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"]),
        FilterExpression=Attr("status").eq("paid"),
        ProjectionExpression="id",
    )
    return [item["id"] for item in items]


def set_fields(org_id: str, checkout_id: str, fields: dict[str, Any]) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values())}
    update_if(
        keys.checkout(org_id, checkout_id),
        "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
        "attribute_exists(PK)",
        values,
        names,
    )


def move(org_id: str, checkout_id: str, to: str, allowed_from: tuple[str, ...], fields: dict[str, Any]) -> bool:
    """Move the checkout's status to ``to`` if it is in ``allowed_from``; False when it is not
    (a late or repeated event never moves a paid checkout back)."""
    names = {"#s": "status", **{f"#f{i}": name for i, name in enumerate(fields)}}
    values: dict[str, Any] = {":to": to, **{f":v{i}": v for i, v in enumerate(fields.values())}}
    values.update({f":from{i}": status for i, status in enumerate(allowed_from)})
    expression = "SET #s = :to" + "".join(f", #f{i} = :v{i}" for i in range(len(fields)))
    condition = "#s IN (" + ", ".join(f":from{i}" for i in range(len(allowed_from))) + ")"
    return update_if(keys.checkout(org_id, checkout_id), expression, condition, values, names)


def remove_unstarted(org_id: str, checkout_id: str) -> bool:
    """DeleteItem ``ORG#<org>``/``CHK#<checkout>`` while it is ``open`` with no Stripe session yet
    (Stripe refused to open one): nothing is left half written."""
    try:
        table().delete_item(
            Key=keys.checkout(org_id, checkout_id),
            ConditionExpression="#s = :open AND attribute_not_exists(sessionId)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":open": "open"},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
