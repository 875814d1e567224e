"""The single table, and what every aggregate module shares: transactions, paging, conversions."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from relance.aws import dynamodb_table, resource
from relance.errors import Conflict
from relance.settings import get_settings
from relance.storage.keys import Key

T = TypeVar("T")
INDEX_ATTRIBUTES = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "ttl"}


def table() -> Any:
    """The boto3 Table resource of the single table named by ``TABLE_NAME``."""
    return dynamodb_table(get_settings().table_name)


def plain(value: Any) -> Any:
    """DynamoDB's numbers back as Python's: integers (money is minor units) stay exact."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item's attributes minus the table's key and index attributes, numbers as ints."""
    return {k: plain(v) for k, v in item.items() if k not in INDEX_ATTRIBUTES}


def put(
    item: dict[str, Any],
    *,
    condition: str | None = None,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``Put`` transaction entry (``condition`` e.g. ``attribute_not_exists(PK)``)."""
    entry: dict[str, Any] = {"TableName": get_settings().table_name, "Item": item}
    if condition:
        entry["ConditionExpression"] = condition
    if values:
        entry["ExpressionAttributeValues"] = values
    if names:
        entry["ExpressionAttributeNames"] = names
    return {"Put": entry}


def update(
    key: Key,
    expression: str,
    *,
    names: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "Key": key,
        "UpdateExpression": expression,
    }
    if names:
        entry["ExpressionAttributeNames"] = names
    if values:
        entry["ExpressionAttributeValues"] = values
    if condition:
        entry["ConditionExpression"] = condition
    return {"Update": entry}


def delete(key: Key, *, condition: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"TableName": get_settings().table_name, "Key": key}
    if condition:
        entry["ConditionExpression"] = condition
    return {"Delete": entry}


def _conditional(write: Any, **arguments: Any) -> bool:
    """Run a conditional write; False (nothing written) when its condition does not hold."""
    try:
        write(**{k: v for k, v in arguments.items() if v})
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def update_if(
    key: Key, expression: str, condition: str, values: dict[str, Any], names: dict[str, str] | None = None
) -> bool:
    """UpdateItem under ``condition``; False (nothing written) when the condition does not hold."""
    return _conditional(
        table().update_item,
        Key=key,
        UpdateExpression=expression,
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
        ExpressionAttributeNames=names,
    )


def put_if(
    item: dict[str, Any], condition: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> bool:
    """PutItem under ``condition``; False (nothing written) when the condition does not hold."""
    return _conditional(
        table().put_item,
        Item=item,
        ConditionExpression=condition,
        ExpressionAttributeValues=values,
        ExpressionAttributeNames=names,
    )


class TransactionCancelled(Exception):
    """A transaction's condition failed; ``reasons`` has one code per entry ("None" if it held)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def transact(entries: list[dict[str, Any]]) -> None:
    """All of ``entries`` or none of them (TransactWriteItems with Python values)."""
    try:
        resource("dynamodb").meta.client.transact_write_items(TransactItems=entries)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
        raise TransactionCancelled(reasons) from error


def with_retries(attempt: Callable[[], T], tries: int = 12) -> T:
    """Run a read-then-transact ``attempt`` again when a concurrent write got in first.

    ``attempt`` re-reads what it needs each time; a cancelled transaction (a version
    condition failed or DynamoDB reported a conflict) is retried with jittered backoff.
    """
    for number in range(tries):
        try:
            return attempt()
        except TransactionCancelled as error:
            if number == tries - 1:
                raise Conflict("too many concurrent changes to the same records: try again") from error
            time.sleep(random.uniform(0, 0.01 * 2 ** min(number, 6)))  # noqa: S311 (jitter, not secrets)
    raise AssertionError("unreachable")


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, following LastEvaluatedKey."""
    while True:
        page = table().query(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
