"""Exchange rates an organization entered or imported: one item per currency and day."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from relance.storage import keys
from relance.storage.records import under_prefix
from relance.storage.table import table


def rate_item(org_id: str, rate: dict[str, Any]) -> dict[str, Any]:
    """The item of one rate (``currency``, ``date``, ``rate`` as a decimal string, ``into``…)."""
    return {**keys.exchange_rate(org_id, rate["currency"], rate["date"]), **rate}


def put_rates(org_id: str, rates: list[dict[str, Any]]) -> None:
    """PutItem each rate (BatchWriteItem, 25 a request): a rate replaces that currency's rate of that day.
    Each put is a whole fact, so an import cut short by an error is finished by sending it again."""
    if len(rates) == 1:
        table().put_item(Item=rate_item(org_id, rates[0]))
        return
    with table().batch_writer() as batch:
        for rate in rates:
            batch.put_item(Item=rate_item(org_id, rate))


def rates_of(org_id: str, currency: str | None = None) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``FX#`` (or ``FX#<currency>#``): every rate, by currency then
    date, every page (a few thousand rates fit in one)."""
    return under_prefix(keys.exchange_rates_prefix(org_id, currency))


def delete_rate(org_id: str, currency: str, day: str) -> bool:
    """DeleteItem ``ORG#<org>``/``FX#<currency>#<day>`` if it exists; False when there was none."""
    try:
        table().delete_item(Key=keys.exchange_rate(org_id, currency, day), ConditionExpression="attribute_exists(PK)")
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True
