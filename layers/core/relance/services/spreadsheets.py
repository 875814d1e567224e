"""CSV export of any customer list (the import is ``relance.services.imports``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from relance.domain.money import Money
from relance.domain.organizations import Principal
from relance.services import customers
from relance.services.custom_fields import list_definitions
from relance.services.customers import CustomerFilter
from relance.services.imports import FORMULA_STARTS, ImportReport, ImportRequest, ImportType, import_csv
from relance.services.users import list_users

__all__ = ["ImportReport", "ImportRequest", "ImportType", "export_customers", "import_csv"]  # the import, here too


# ---------------------------------------------------------------- export


def export_customers(principal: Principal, filters: CustomerFilter, sort: str) -> str:
    """The list as CSV, amounts in major units of the customer's currency (exact decimals)."""
    rows = customers.sorted_customers(customers.matching_customers(principal, filters), sort)
    users = {u.id: u.email for u in list_users(principal)}
    fields = [d.key for d in list_definitions(principal.organization_id)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "ID",
            "External ID",
            "Name",
            "Currency",
            "Outstanding",
            "Overdue",
            "Rating",
            "Average payment delay (days)",
            "Account manager",
            "Workflow",
            "Tags",
            "Card",
            "Bank transfer",
            "ACH debit",
            "SEPA debit",
            "Last reminder",
            *fields,
        ]
    )
    for c in rows:

        def amount(values: dict[str, int], customer: Any = c) -> Decimal:
            return Money(amount=values.get(customer.currency, 0), currency=customer.currency).to_decimal()

        writer.writerow(
            _cell(value)
            for value in [
                c.id,
                c.external_id or "",
                c.name,
                c.currency,
                amount(c.outstanding),
                amount(c.overdue),
                c.rating or "",
                "" if c.average_payment_delay_days is None else c.average_payment_delay_days,
                ";".join(users.get(u, u) for u in c.account_manager_ids),
                c.dunning_plan_id or "",
                ";".join(c.tags),
                _yes(c.payment_methods.card),
                _yes(c.payment_methods.bank_transfer),
                _yes(c.payment_methods.ach_debit),
                _yes(c.payment_methods.sepa_debit),
                c.last_reminder_at.isoformat() if c.last_reminder_at else "",
                *("" if c.custom_fields.get(k) is None else c.custom_fields[k] for k in fields),
            ]
        )
    return out.getvalue()


def _cell(value: object) -> str:
    """A value as a CSV cell a spreadsheet will not run: text starting with ``= + - @``, a tab or a
    carriage return gets a leading ``'`` (OWASP's CSV injection advice); numbers stay numbers, so a
    negative amount or delay is still ``-12.50``."""
    if isinstance(value, bool):
        return _yes(value)
    if isinstance(value, int | Decimal):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _yes(value: bool) -> str:
    return "yes" if value else "no"
