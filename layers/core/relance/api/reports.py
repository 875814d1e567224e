"""A report's ``items`` as CSV, the same for the API (``?format=csv``) and the web app's downloads."""

from __future__ import annotations

import csv
import io
from typing import Any, get_args

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel


def items_csv(report: BaseModel) -> str:
    """One line per item; the header is the JSON field names; a null is an empty cell."""
    items = report.model_dump(mode="json", by_alias=True)["items"]
    row = get_args(type(report).model_fields["items"].annotation)[0]
    header = [f.alias or n for n, f in row.model_fields.items()]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if item[h] is None else item[h] for h in header] for item in items])
    return out.getvalue()


def csv_download(report: BaseModel, name: str, headers: dict[str, str] | None = None) -> Response[Any]:
    """The report's items as a CSV attachment named ``<name>.csv``."""
    disposition = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return Response(200, "text/csv; charset=utf-8", items_csv(report), headers={**(headers or {}), **disposition})
