"""CSV export of any customer list, and CSV import of customers, contacts and invoices.

An import reports every row: created, updated, or the reason it was refused (with the
fields at fault). A refused row changes nothing; the others are written one by one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from relance.domain.base import RelanceModel
from relance.domain.customers import ContactFields, CustomerFields, CustomerPatch, PaymentMethods
from relance.domain.ledger import InvoiceFields
from relance.domain.money import Money
from relance.domain.organizations import Principal
from relance.errors import Invalid, RelanceError, validation_fields
from relance.services import contacts, customers, ledger
from relance.services.access import require_admin
from relance.services.custom_fields import list_definitions
from relance.services.customers import CustomerFilter
from relance.services.users import list_users
from relance.services.workflows import list_workflows
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store

MAX_ROWS = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
YES = {"yes", "y", "true", "1", "x", "oui"}
NO = {"no", "n", "false", "0", "", "non"}


def _field_errors(error: ValidationError) -> dict[str, str]:
    return validation_fields(error.errors())


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


def _uncell(text: str) -> str:
    """A cell as exported back to its value: the ``'`` that neutralised a formula comes off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _yes(value: bool) -> str:
    return "yes" if value else "no"


# ---------------------------------------------------------------- import


class ImportType(StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    INVOICES = "invoices"


class ImportRequest(RelanceModel):
    type: ImportType
    csv: str


class RowReport(RelanceModel):
    line: int
    status: str  # created, updated, error
    id: str | None = None
    reason: str | None = None
    fields: dict[str, str] | None = None


class ImportReport(RelanceModel):
    type: ImportType
    rows: int
    created: int
    updated: int
    failed: int
    report: list[RowReport]


class RowError(Exception):
    def __init__(self, reason: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = fields


def import_csv(principal: Principal, request: ImportRequest) -> ImportReport:
    require_admin(principal)
    reader = csv.DictReader(io.StringIO(request.csv.lstrip("\ufeff")))
    rows = list(reader)
    if not reader.fieldnames:
        raise Invalid("the CSV has no header line", {"csv": "a header line is required"})
    if len(rows) > MAX_ROWS:
        raise Invalid("too many rows", {"csv": f"at most {MAX_ROWS} rows per import"})
    handler: Callable[[dict[str, str]], tuple[str, str]] = {
        ImportType.CUSTOMERS: _CustomerRows(principal).apply,
        ImportType.CONTACTS: _ContactRows(principal).apply,
        ImportType.INVOICES: _InvoiceRows(principal).apply,
    }[request.type]
    report = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        clean = {(k or "").strip().lower(): _uncell((v or "").strip()) for k, v in row.items()}
        try:
            status, record_id = handler(clean)
            report.append(RowReport(line=line, status=status, id=record_id))
        except RowError as error:
            report.append(RowReport(line=line, status="error", reason=error.reason, fields=error.fields))
        except ValidationError as error:
            report.append(RowReport(line=line, status="error", reason="invalid values", fields=_field_errors(error)))
        except RelanceError as error:
            report.append(RowReport(line=line, status="error", reason=error.message, fields=error.fields or None))
    count = {s: sum(1 for r in report if r.status == s) for s in ("created", "updated", "error")}
    return ImportReport(
        type=request.type,
        rows=len(rows),
        created=count["created"],
        updated=count["updated"],
        failed=count["error"],
        report=report,
    )


PAYMENT_COLUMNS = {
    "card": "card",
    "bank transfer": "bank_transfer",
    "ach debit": "ach_debit",
    "sepa debit": "sepa_debit",
}


def _flag(row: dict[str, str], column: str, default: bool = False) -> bool:
    """A yes/no cell; an empty or missing cell is ``default``."""
    value = row.get(column, "").lower()
    if not value:
        return default
    if value in YES:
        return True
    if value in NO:
        return False
    raise RowError(f"'{row[column]}' is not yes or no", {column: "yes or no"})


class _CustomerLookup:
    """Finds the customer a row names: by external id, else by name (case-insensitive)."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.by_name: dict[str, str] = {}
        for item in customer_store.list_customers(principal.organization_id):
            self.by_name.setdefault(item["name"].lower(), item["id"])

    def find(self, external_id: str, name: str) -> str | None:
        if external_id:
            return customer_store.customer_id_by_external_id(self.principal.organization_id, external_id)
        return self.by_name.get(name.lower()) if name else None


class _CustomerRows(_CustomerLookup):
    def __init__(self, principal: Principal) -> None:
        super().__init__(principal)
        self.users = {u.email.lower(): u.id for u in list_users(principal)}
        self.workflows = {w.name.lower(): w.id for w in list_workflows(principal)}
        definitions = list_definitions(principal.organization_id)
        self.custom_columns = {d.label.lower(): d for d in definitions} | {d.key: d for d in definitions}

    def apply(self, row: dict[str, str]) -> tuple[str, str]:
        if not row.get("name") and not row.get("external id"):
            raise RowError("a customer needs a name or an external id", {"name": "required"})
        managers = []
        for email in filter(None, (e.strip().lower() for e in row.get("account manager", "").split(";"))):
            if email not in self.users:
                raise RowError(f"no user with email {email}", {"account manager": "unknown user"})
            managers.append(self.users[email])
        workflow = row.get("workflow", "")
        if workflow and workflow.lower() not in self.workflows:
            raise RowError("no workflow of that name", {"workflow": f"unknown workflow '{workflow}'"})
        values: dict[str, Any] = {
            "name": row.get("name") or None,
            "currency": row.get("currency") or None,
            "language": row.get("language") or None,
            "tags": [t.strip() for t in row.get("tags", "").split(";") if t.strip()] or None,
            "accountManagerIds": managers or None,
            "customFields": self._custom_values(row) or None,
            "dunningPlanId": self.workflows.get(workflow.lower()) if workflow else None,
        }
        existing = self.find(row.get("external id", ""), row.get("name", ""))
        flags = {key: _flag(row, column) for column, key in PAYMENT_COLUMNS.items() if row.get(column)}
        if flags:  # empty cells leave a method as it is (or as the default for a new customer)
            base = customers.get_customer(self.principal, existing).payment_methods if existing else PaymentMethods()
            values["paymentMethods"] = base.model_copy(update=flags)
        present = {k: v for k, v in values.items() if v is not None}
        if existing:
            customers.update_customer(self.principal, existing, CustomerPatch.model_validate(present))
            return "updated", existing
        fields = CustomerFields.model_validate({**present, "externalId": row.get("external id") or None})
        created = customers.create_customer(self.principal, fields)
        self.by_name.setdefault(created.name.lower(), created.id)
        return "created", created.id

    def _custom_values(self, row: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column, raw in row.items():
            definition = self.custom_columns.get(column.removeprefix("cf:"))
            if definition is None or raw == "":
                continue
            if definition.type == "number":
                try:
                    values[definition.key] = int(raw)
                except ValueError as error:
                    raise RowError(f"'{raw}' is not a whole number", {column: "a whole number"}) from error
            else:
                values[definition.key] = raw
        return values


class _ContactRows(_CustomerLookup):
    def __init__(self, principal: Principal) -> None:
        super().__init__(principal)
        self.positions = {p.name.lower(): p.id for p in contacts.list_positions(principal)}

    def apply(self, row: dict[str, str]) -> tuple[str, str]:
        customer_id = self.find(row.get("customer external id", ""), row.get("customer name", ""))
        if customer_id is None:
            raise RowError("no such customer", {"customer external id": "unknown customer"})
        position = row.get("position", "")
        if position and position.lower() not in self.positions:
            raise RowError(f"no position named {position}", {"position": "unknown position"})
        fields = ContactFields.model_validate(
            {
                "email": row.get("email", ""),
                "firstName": row.get("first name") or None,
                "lastName": row.get("last name") or None,
                "phone": row.get("phone") or None,
                "jobTitle": row.get("job title") or None,
                "positionId": self.positions.get(position.lower()) if position else None,
                "isMain": _flag(row, "main", False),
            }
        )
        return "created", contacts.create_contact(self.principal, customer_id, fields).id


class _InvoiceRows(_CustomerLookup):
    def apply(self, row: dict[str, str]) -> tuple[str, str]:
        customer_id = self.find(row.get("customer external id", ""), row.get("customer name", ""))
        if customer_id is None:
            raise RowError("no such customer", {"customer external id": "unknown customer"})
        external_id = row.get("external id") or None
        if external_id and ledger_store.invoice_id_by_external_id(self.principal.organization_id, external_id):
            raise RowError("an invoice with this external id exists", {"external id": "already imported"})
        currency = row.get("currency", "")
        fields = InvoiceFields.model_validate(
            {
                "customerId": customer_id,
                "externalId": external_id,
                "number": row.get("number", ""),
                "currency": currency,
                "amount": _minor_units(row.get("amount", ""), currency),
                "issuedAt": row.get("issued at", ""),
                "dueAt": row.get("due at", ""),
            }
        )
        return "created", ledger.create_invoice(self.principal, fields).id


def _minor_units(text: str, currency: str) -> int:
    """``"1234.50"`` USD → 123450; refuses more decimals than the currency has."""
    try:
        value = Decimal(text.replace(",", ""))
        digits = Money(amount=0, currency=currency).minor_digits
    except (InvalidOperation, ValidationError) as error:
        raise RowError(
            f"'{text}' is not an amount in {currency or '?'}", {"amount": "an amount such as 1234.50"}
        ) from error
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise RowError(f"{currency} has {digits} decimals", {"amount": f"at most {digits} decimals"})
    return int(minor)
