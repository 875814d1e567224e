"""CSV export of any customer list (the import is ``relance.services.imports``)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from relance.domain.customers import Customer
from relance.domain.money import Money
from relance.domain.organizations import Principal
from relance.services import customers
from relance.services.custom_fields import list_definitions
from relance.services.customers import CustomerFilter
from relance.services.imports import FORMULA_STARTS, ImportReport, ImportRequest, ImportType, import_csv
from relance.services.users import list_users

__all__ = ["ImportReport", "ImportRequest", "ImportType", "export_customers", "import_csv"]  # the import, here too


# ---------------------------------------------------------------- export


HEADINGS = (
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
)
"""The export's columns, then one per custom field (by key)."""


def export_customers(principal: Principal, filters: CustomerFilter, sort: str) -> str:
    """The list as CSV, amounts in major units of the customer's currency (exact decimals)."""
    rows = customers.sorted_customers(customers.matching_customers(principal, filters), sort)
    emails = {u.id: u.email for u in list_users(principal)}
    fields = [d.key for d in list_definitions(principal.organization_id)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*HEADINGS, *fields])
    writer.writerows([_cell(value) for value in _row(customer, emails, fields)] for customer in rows)
    return out.getvalue()


def _row(customer: Customer, emails: dict[str, str], fields: list[str]) -> list[object]:
    """One customer's values under ``HEADINGS`` and its custom fields; account managers by email."""

    def amount(values: dict[str, int]) -> Decimal:
        return Money(amount=values.get(customer.currency, 0), currency=customer.currency).to_decimal()

    delay = customer.average_payment_delay_days
    methods = customer.payment_methods
    return [
        customer.id,
        customer.external_id or "",
        customer.name,
        customer.currency,
        amount(customer.outstanding),
        amount(customer.overdue),
        customer.rating or "",
        "" if delay is None else delay,
        ";".join(emails.get(u, u) for u in customer.account_manager_ids),
        customer.dunning_plan_id or "",
        ";".join(customer.tags),
        _yes(methods.card),
        _yes(methods.bank_transfer),
        _yes(methods.ach_debit),
        _yes(methods.sepa_debit),
        customer.last_reminder_at.isoformat() if customer.last_reminder_at else "",
        *("" if customer.custom_fields.get(k) is None else customer.custom_fields[k] for k in fields),
    ]


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
