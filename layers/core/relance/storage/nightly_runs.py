"""The nightly run's report per organization and date: also what keeps a night from running twice."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import get
from relance.storage.table import table


def get_run(org_id: str, run_date: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``RUN#nightly#<date>``, strongly consistent."""
    return get(keys.nightly_run(org_id, run_date), consistent=True)


def put_run(org_id: str, run_date: str, report: dict[str, Any]) -> None:
    """PutItem ``ORG#<org>``/``RUN#nightly#<date>``: the night's report."""
    table().put_item(Item={**keys.nightly_run(org_id, run_date), **report})
