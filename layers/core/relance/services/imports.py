"""CSV import of customers, contacts and invoices: every row reported, bad ones never a 500, 1,000 rows
inside the API's 29 s, and importing the same file again creates nothing twice.

- **Reading.** The whole CSV is read first (at most ``MAX_ROWS`` rows, else a 422 on ``csv``). A row
  the reader cannot take (a cell beyond the header's columns, a cell over ``MAX_CELL_CHARS``, a
  malformed quote) is reported with its line and column and changes nothing; the others go on.
- **Natural keys.** A customer is the one with the row's external id, else its name; a contact is
  the customer's contact with that email; an invoice is the one with the row's external id, else
  the customer's invoice with that number. A row that names an existing record updates it — or
  reports ``unchanged`` when it would change nothing — so a retried import creates nothing twice.
  The same file imported while it is already being imported is a 409 (``IMPORT#`` lock item).
- **Speed.** What the rows are checked against is read once (customers, users, workflows, custom
  fields, positions, contacts, invoices: one Query each) and new records are written 25 to a
  transaction; a transaction refused as a whole (another write got in) is replayed row by row
  through the services, so each row still gets its own answer. Changed records go through the
  services (``update_customer``, ``update_contact``, ``update_invoice``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.customers import (
    ContactFields,
    ContactPatch,
    CustomerFields,
    CustomerPatch,
    PaymentMethods,
)
from relance.domain.ledger import InvoiceFields, InvoicePatch
from relance.domain.money import MAX_AMOUNT, Money
from relance.domain.organizations import Principal
from relance.domain.rating import RatingBasis, rate
from relance.errors import Conflict, Invalid, RelanceError, validation_fields
from relance.services import contacts, customers, ledger, ratings
from relance.services.access import require_admin
from relance.services.custom_fields import list_definitions
from relance.services.nudges import nudge_later
from relance.services.organizations import get_organization
from relance.services.users import list_users
from relance.services.workflows import list_workflows
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import keys
from relance.storage import ledger as ledger_store
from relance.storage.table import TransactionCancelled, put_if, table, transact

MAX_ROWS = 1000
MAX_CELL_CHARS = 131_072
BATCH = 25  # new records per transaction (each is at most 3 of DynamoDB's 100 items)
LOCK_SECONDS = 120  # longer than the API function may run: a lock left by a killed import expires
YES = {"yes", "y", "true", "1", "x", "oui"}
NO = {"no", "n", "false", "0", "", "non"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYMENT_COLUMNS = {
    "card": "card",
    "bank transfer": "bank_transfer",
    "ach debit": "ach_debit",
    "sepa debit": "sepa_debit",
}


class ImportType(StrEnum):
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    INVOICES = "invoices"


class ImportRequest(RelanceModel):
    type: ImportType
    csv: str = Field(max_length=10 * 1024 * 1024, description=f"a header line, then at most {MAX_ROWS} rows")


class RowReport(RelanceModel):
    line: int
    status: str = Field(description="created, updated, unchanged or error")
    id: str | None = None
    reason: str | None = None
    fields: dict[str, str] | None = None


class ImportReport(RelanceModel):
    type: ImportType
    rows: int
    created: int
    updated: int
    unchanged: int = 0
    failed: int
    report: list[RowReport]


class RowError(Exception):
    def __init__(self, reason: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fields = fields


# ---------------------------------------------------------------- reading


@dataclass
class Row:
    line: int
    cells: dict[str, str]
    problem: RowError | None = None


def uncell(text: str) -> str:
    """A cell as exported back to its value: the ``'`` that neutralised a formula comes off."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def read_rows(text: str) -> list[Row]:
    """The CSV's rows after its header, each with its cells by lower-case column name, or its problem."""
    # The reader's own limit would stop it mid-file: cells are measured here instead, row by row.
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise Invalid("the CSV's header line cannot be read", {"csv": str(error)}) from error
    names = [name.strip().lower() for name in header or []]
    if not any(names):
        raise Invalid("the CSV has no header line", {"csv": "a header line is required"})
    rows: list[Row] = []
    line = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            line += 1
            rows.append(Row(line, {}, RowError(f"this line cannot be read: {error}", {"csv": str(error)})))
            continue
        if not record:
            continue  # a blank line
        line += 1
        rows.append(_row(line, names, record))
        if len(rows) > MAX_ROWS:
            raise Invalid("too many rows", {"csv": f"at most {MAX_ROWS} rows per import"})


def _row(line: int, names: list[str], record: list[str]) -> Row:
    if len(record) > len(names):
        extra = f"column {len(names) + 1}"
        return Row(line, {}, RowError(f"{len(record)} cells, but the header names {len(names)}", {extra: "no header"}))
    cells = {}
    for name, value in zip(names, record, strict=False):
        if len(value) > MAX_CELL_CHARS:
            problem = RowError(f"a cell of {len(value)} characters", {name: f"at most {MAX_CELL_CHARS} characters"})
            return Row(line, {}, problem)
        cells[name] = uncell(value.strip())
    return Row(line, cells)


@contextmanager
def lock(org_id: str, request: ImportRequest) -> Iterator[None]:
    """One import of the same file at a time (a client retrying while the first still runs)."""
    digest = hashlib.sha256(f"{request.type}\n{request.csv}".encode()).hexdigest()
    key = keys.import_lock(org_id, digest)
    now = clock.now()
    taken = put_if(
        {**key, "expiresAt": (now + timedelta(seconds=LOCK_SECONDS)).isoformat()},
        "attribute_not_exists(PK) OR expiresAt < :now",
        values={":now": now.isoformat()},
    )
    if not taken:
        raise Conflict("this file is being imported already: wait for that import's report", {"csv": "importing"})
    try:
        yield
    finally:
        table().delete_item(Key=key)


# ---------------------------------------------------------------- the import


def import_csv(principal: Principal, request: ImportRequest) -> ImportReport:
    require_admin(principal)
    rows = read_rows(request.csv)
    importer: type[_Importer] = {
        ImportType.CUSTOMERS: _Customers,
        ImportType.CONTACTS: _Contacts,
        ImportType.INVOICES: _Invoices,
    }[request.type]
    with lock(principal.organization_id, request):
        reports = importer(principal).run(rows)
    count = {s: sum(1 for r in reports if r.status == s) for s in ("created", "updated", "unchanged", "error")}
    return ImportReport(
        type=request.type,
        rows=len(rows),
        created=count["created"],
        updated=count["updated"],
        unchanged=count["unchanged"],
        failed=count["error"],
        report=reports,
    )


@dataclass
class _New:
    """A record to create: its transaction entries, and the customer item they change, if any."""

    line: int
    record_id: str
    entries: list[dict[str, Any]]
    customer_id: str | None
    refused: Callable[[TransactionCancelled], RelanceError]  # why its entries alone were refused


@dataclass
class _Importer:
    principal: Principal
    reports: dict[int, RowReport] = field(default_factory=dict)
    pending: list[_New] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.org_id = self.principal.organization_id
        self.customers = {i["id"]: i for i in customer_store.list_customers(self.org_id)}
        self.by_external_id = {c["externalId"]: c["id"] for c in self.customers.values() if c.get("externalId")}
        self.by_name: dict[str, str] = {}
        for item in sorted(self.customers.values(), key=lambda c: c.get("createdAt", "")):
            self.by_name.setdefault(item["name"].lower(), item["id"])

    def run(self, rows: list[Row]) -> list[RowReport]:
        for row in rows:
            if row.problem is not None:
                self._error(row.line, row.problem.reason, row.problem.fields)
                continue
            try:
                status, record_id = self.apply(row)
                if status != "pending":
                    self.reports[row.line] = RowReport(line=row.line, status=status, id=record_id)
            except RowError as error:
                self._error(row.line, error.reason, error.fields)
            except ValidationError as error:
                self._error(row.line, "invalid values", validation_fields(error.errors()))
            except RelanceError as error:
                self._error(row.line, error.message, error.fields or None)
        self.flush()
        self.finish()
        return [self.reports[line] for line in sorted(self.reports)]

    def apply(self, row: Row) -> tuple[str, str]:
        raise NotImplementedError

    def finish(self) -> None:
        """After every row: what follows the writes (ratings, nudges)."""

    def _error(self, line: int, reason: str, fields: dict[str, str] | None) -> None:
        self.reports[line] = RowReport(line=line, status="error", reason=reason, fields=fields)

    def add(self, new: _New) -> tuple[str, str]:
        """Queue a new record; written with the next 25, or at once when it touches a customer already queued."""
        if new.customer_id is not None and any(p.customer_id == new.customer_id for p in self.pending):
            self.flush()  # one transaction changes an item once
        self.pending.append(new)
        if len(self.pending) >= BATCH:
            self.flush()
        return "pending", new.record_id

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            transact([entry for new in batch for entry in new.entries])
        except TransactionCancelled:
            for new in batch:  # replayed one by one: each row gets its own answer
                try:
                    transact(new.entries)
                except TransactionCancelled as error:
                    refused = new.refused(error)
                    self._error(new.line, refused.message, refused.fields or None)
                else:
                    self._created(new)
            return
        for new in batch:
            self._created(new)

    def _created(self, new: _New) -> None:
        self.reports[new.line] = RowReport(line=new.line, status="created", id=new.record_id)
        self.written(new)

    def written(self, new: _New) -> None:
        """A queued record was written in its batch."""

    def customer_of(self, row: Row) -> dict[str, Any]:
        """The customer a contact or invoice row names, by external id, else by name."""
        customer_id = self.find(row.cells.get("customer external id", ""), row.cells.get("customer name", ""))
        if customer_id is None:
            raise RowError("no such customer", {"customer external id": "unknown customer"})
        return self.customers[customer_id]

    def find(self, external_id: str, name: str) -> str | None:
        if external_id:
            return self.by_external_id.get(external_id)
        return self.by_name.get(name.lower()) if name else None


def flag(row: Row, column: str) -> bool | None:
    """A yes/no cell; None for an empty or missing one."""
    value = row.cells.get(column, "").lower()
    if not value:
        return None
    if value in YES:
        return True
    if value in NO:
        return False
    raise RowError(f"'{row.cells[column]}' is not yes or no", {column: "yes or no"})


def custom_field_problems(definitions: dict[str, CustomFieldDefinition], values: dict[str, Any]) -> dict[str, str]:
    """What ``services.custom_fields.validate_values`` refuses, checked against definitions read once."""
    problems = {}
    for key, value in values.items():
        definition = definitions.get(key)
        problem = "no such custom field" if definition is None else definition.problem_with(value)
        if problem:
            problems[f"customFields.{key}"] = problem
    return problems


# ---------------------------------------------------------------- customers


class _Customers(_Importer):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.organization = get_organization(self.org_id)
        self.users = {u.email.lower(): u.id for u in list_users(self.principal)}
        self.workflows = {w.name.lower(): w.id for w in list_workflows(self.principal)}
        definitions = list_definitions(self.org_id)
        self.definitions = {d.key: d for d in definitions}
        self.custom_columns = {d.label.lower(): d for d in definitions} | {d.key: d for d in definitions}
        self.queued: set[str] = set()
        self.nudged: list[str] = []

    def apply(self, row: Row) -> tuple[str, str]:
        """The customer the row names (by external id, else name) updated where it differs, else a new one."""
        cells = row.cells
        if not cells.get("name") and not cells.get("external id"):
            raise RowError("a customer needs a name or an external id", {"name": "required"})
        values = self._values(row)
        existing = self.find(cells.get("external id", ""), cells.get("name", ""))
        if existing in self.queued:
            self.flush()  # named again further down: written before it is changed
        if existing is not None:
            return self._update(existing, values)
        return self._create(row.line, values, cells.get("external id") or None)

    def _create(self, line: int, values: dict[str, Any], external_id: str | None) -> tuple[str, str]:
        """A new customer, known at once to the rows below (by id, external id and name), written with its batch."""
        given = {k: v for k, v in values.items() if k != "methods"}
        if values.get("methods"):
            given["paymentMethods"] = PaymentMethods().model_copy(update=values["methods"])
        fields = CustomerFields.model_validate({**given, "externalId": external_id})
        item = customers.new_customer_item(self.organization, fields, clock.now().isoformat())
        self.customers[item["id"]] = item
        if item.get("externalId"):
            self.by_external_id[item["externalId"]] = item["id"]
        self.by_name.setdefault(item["name"].lower(), item["id"])
        self.queued.add(item["id"])

        def refused(error: TransactionCancelled) -> RelanceError:
            return customers.claim_errors(error, item.get("externalId"))

        return self.add(_New(line, item["id"], customer_store.create_entries(self.org_id, item), None, refused))

    def written(self, new: _New) -> None:
        self.queued.discard(new.record_id)
        if self.customers[new.record_id].get("dunningPlanId"):
            self.nudged.append(new.record_id)

    def finish(self) -> None:
        nudge_later(self.org_id, self.nudged)  # their executions start after the import has answered

    def _values(self, row: Row) -> dict[str, Any]:
        cells = row.cells
        managers = []
        for email in filter(None, (e.strip().lower() for e in cells.get("account manager", "").split(";"))):
            if email not in self.users:
                raise RowError(f"no user with email {email}", {"account manager": "unknown user"})
            managers.append(self.users[email])
        workflow = cells.get("workflow", "")
        if workflow and workflow.lower() not in self.workflows:
            raise RowError("no workflow of that name", {"workflow": f"unknown workflow '{workflow}'"})
        custom = self._custom_values(row)
        problems = custom_field_problems(self.definitions, custom)
        if problems:
            raise RowError("invalid custom field values", problems)
        values: dict[str, Any] = {
            "name": cells.get("name") or None,
            "currency": cells.get("currency") or None,
            "language": cells.get("language") or None,
            "tags": [t.strip() for t in cells.get("tags", "").split(";") if t.strip()] or None,
            "accountManagerIds": managers or None,
            "customFields": custom or None,
            "dunningPlanId": self.workflows.get(workflow.lower()) if workflow else None,
            "methods": {key: f for column, key in PAYMENT_COLUMNS.items() if (f := flag(row, column)) is not None},
        }
        return {k: v for k, v in values.items() if v}

    def _update(self, customer_id: str, values: dict[str, Any]) -> tuple[str, str]:
        """Only what differs from the customer as stored: nothing at all is ``unchanged``."""
        before = self.customers[customer_id]
        changes = {k: v for k, v in values.items() if k not in ("methods", "customFields") and before.get(k) != v}
        if values.get("customFields"):  # an empty cell leaves a field as it is
            merged = {**(before.get("customFields") or {}), **values["customFields"]}
            if merged != (before.get("customFields") or {}):
                changes["customFields"] = merged
        if values.get("methods"):
            methods = PaymentMethods.model_validate(before.get("paymentMethods") or {}).model_copy(
                update=values["methods"]
            )
            if methods.model_dump(by_alias=True) != (before.get("paymentMethods") or {}):
                changes["paymentMethods"] = methods
        if not changes:
            return "unchanged", customer_id
        updated = customers.update_customer(self.principal, customer_id, CustomerPatch.model_validate(changes))
        self.customers[customer_id] = {**before, **updated.model_dump(by_alias=True, mode="json")}
        return "updated", customer_id

    def _custom_values(self, row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for column, raw in row.cells.items():
            definition = self.custom_columns.get(column.removeprefix("cf:"))
            if definition is None or raw == "":
                continue
            if definition.type == "number":
                try:
                    values[definition.key] = int(raw)
                except ValueError as error:
                    raise RowError(f"'{raw[:50]}' is not a whole number", {column: "a whole number"}) from error
            else:
                values[definition.key] = raw
        return values


# ---------------------------------------------------------------- contacts


class _Contacts(_Importer):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.positions = {p.name.lower(): p.id for p in contacts.list_positions(self.principal)}
        self.contacts: dict[tuple[str, str], dict[str, Any]] = {}
        for item in contact_store.contacts_of_organization(self.org_id):
            self.contacts.setdefault((item["customerId"], item["email"].lower()), item)

    def apply(self, row: Row) -> tuple[str, str]:
        customer = self.customer_of(row)
        cells = row.cells
        position = cells.get("position", "")
        if position and position.lower() not in self.positions:
            raise RowError(f"no position named {position}", {"position": "unknown position"})
        main = flag(row, "main")
        fields = ContactFields.model_validate(
            {
                "email": cells.get("email", ""),
                "firstName": cells.get("first name") or None,
                "lastName": cells.get("last name") or None,
                "phone": cells.get("phone") or None,
                "jobTitle": cells.get("job title") or None,
                "positionId": self.positions.get(position.lower()) if position else None,
                "isMain": bool(main),
            }
        )
        existing = self.contacts.get((customer["id"], fields.email.lower()))
        if existing is not None:
            return self._update(customer, existing, fields, main)
        item = contacts.new_contact_item(customer["id"], fields, clock.now().isoformat())
        self.contacts[(customer["id"], fields.email.lower())] = item
        entries = [contact_store.put_contact_entry(self.org_id, item, new=True)]
        if fields.is_main or not customer.get("mainContactId"):  # the first contact is the main one
            customer["mainContactId"] = item["id"]
            entries.append(contacts.main_contact_entry(self.org_id, customer["id"], item["id"]))

        def refused(error: TransactionCancelled) -> RelanceError:
            if error.reasons[0] == "ConditionalCheckFailed":
                return Conflict("the contact was created meanwhile", {"email": "already a contact of the customer"})
            return Conflict("the customer changed meanwhile: import the row again", {"customer external id": "changed"})

        return self.add(_New(row.line, item["id"], entries, customer["id"], refused))

    def _update(
        self, customer: dict[str, Any], existing: dict[str, Any], fields: ContactFields, main: bool | None
    ) -> tuple[str, str]:
        given = fields.model_dump(by_alias=True, mode="json", exclude={"is_main", "email"}, exclude_none=True)
        changes: dict[str, Any] = {k: v for k, v in given.items() if existing.get(k) != v}
        if main and customer.get("mainContactId") != existing["id"]:
            changes["isMain"] = True
        if not changes:
            return "unchanged", existing["id"]
        self.flush()  # the contact may have been queued by an earlier row
        contacts.update_contact(self.principal, existing["id"], ContactPatch.model_validate(changes))
        existing.update({k: v for k, v in changes.items() if k != "isMain"})
        if changes.get("isMain"):
            customer["mainContactId"] = existing["id"]
        return "updated", existing["id"]


# ---------------------------------------------------------------- invoices


class _Invoices(_Importer):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.invoices = {i["id"]: i for i in ledger_store.invoices_of_organization(self.org_id)}
        self.by_invoice_external_id = {i["externalId"]: i["id"] for i in self.invoices.values() if i.get("externalId")}
        self.by_number = {(i["customerId"], i["number"]): i["id"] for i in self.invoices.values()}
        self.touched: dict[str, int] = {}  # customer id → ledger writes this import made

    def apply(self, row: Row) -> tuple[str, str]:
        customer = self.customer_of(row)
        cells = row.cells
        currency = cells.get("currency", "")
        fields = InvoiceFields.model_validate(
            {
                "customerId": customer["id"],
                "externalId": cells.get("external id") or None,
                "number": cells.get("number", ""),
                "currency": currency,
                "amount": minor_units(cells.get("amount", ""), currency),
                "issuedAt": cells.get("issued at", ""),
                "dueAt": cells.get("due at", ""),
            }
        )
        existing_id = (
            self.by_invoice_external_id.get(fields.external_id)
            if fields.external_id
            else self.by_number.get((customer["id"], fields.number))
        )
        if existing_id is not None:
            return self._update(self.invoices[existing_id], fields)
        item = ledger.new_invoice_item(fields, clock.now().isoformat())
        self.invoices[item["id"]] = item
        self.by_number[(customer["id"], item["number"])] = item["id"]
        if item.get("externalId"):
            self.by_invoice_external_id[item["externalId"]] = item["id"]
        entries = ledger.new_invoice_entries(self.org_id, item, clock.now().isoformat())

        def refused(error: TransactionCancelled) -> RelanceError:
            if item.get("externalId") and error.reasons[1:2] == ["ConditionalCheckFailed"]:
                return Conflict("externalId is already used by another invoice", {"external id": "already used"})
            return Conflict("the customer changed meanwhile: import the row again", {"customer external id": "changed"})

        return self.add(_New(row.line, item["id"], entries, customer["id"], refused))

    def written(self, new: _New) -> None:
        customer_id = new.customer_id or ""
        self.touched[customer_id] = self.touched.get(customer_id, 0) + 1

    def _update(self, before: dict[str, Any], fields: InvoiceFields) -> tuple[str, str]:
        if before["customerId"] != fields.customer_id:
            raise RowError("this invoice is another customer's", {"customer external id": "not the invoice's customer"})
        if before["currency"] != fields.currency:
            raise RowError(
                "an invoice's currency cannot change", {"currency": f"the invoice is in {before['currency']}"}
            )
        given = fields.model_dump(by_alias=True, mode="json", include={"number", "amount", "issued_at", "due_at"})
        if fields.external_id:
            given["externalId"] = fields.external_id
        changes = {k: v for k, v in given.items() if before.get(k) != v}
        if not changes:
            return "unchanged", before["id"]
        self.flush()
        updated = ledger.update_invoice(self.principal, before["id"], InvoicePatch.model_validate(changes))
        self.invoices[before["id"]] = {**before, **updated.model_dump(by_alias=True, mode="json")}
        return "updated", before["id"]

    def finish(self) -> None:
        """Each customer given invoices is rated again (from the invoices read and written here, one
        conditional write each) and, under a workflow, nudged (through the nudge queue)."""
        if not self.touched:
            return
        basis = RatingBasis(self.organization_basis())
        today = clock.now().date()
        by_customer: dict[str, list[dict[str, Any]]] = {}
        for invoice in self.invoices.values():
            by_customer.setdefault(invoice["customerId"], []).append(invoice)
        for customer_id, writes in self.touched.items():
            customer = self.customers[customer_id]
            rating = rate(ratings.rated_invoices(by_customer.get(customer_id, [])), today, basis)
            version = int(customer.get("ledgerVersion", 0)) + writes
            stored = rating.model_dump(mode="json", by_alias=True)
            if not customer_store.save_rating(self.org_id, customer_id, stored, version):
                ratings.refresh(self.org_id, customer_id, basis)  # another write got in: read it all again
        nudge_later(self.org_id, [c for c in self.touched if self.customers[c].get("dunningPlanId")])

    def organization_basis(self) -> str:
        return get_organization(self.org_id).settings.rating_basis.value


def minor_units(text: str, currency: str) -> int:
    """``"1234.50"`` USD → 123450; refuses what is not a finite amount up to 10^15 minor units, and
    more decimals than the currency has — before any arithmetic on it."""
    refused = RowError(f"'{text[:50]}' is not an amount in {currency or '?'}", {"amount": "an amount such as 1234.50"})
    try:
        value = Decimal(text.replace(",", ""))
        digits = Money(amount=0, currency=currency).minor_digits
    except (InvalidOperation, ValidationError) as error:
        raise refused from error
    if not value.is_finite():  # Infinity, NaN, sNaN
        raise refused
    if value.adjusted() >= len(str(MAX_AMOUNT)) - digits:  # 1e999999999, 1e900000: refused unexpanded
        raise RowError(
            f"'{text[:50]}' is too large",
            {"amount": f"at most {Money(amount=MAX_AMOUNT, currency=currency).to_decimal()}"},
        )
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise RowError(f"{currency} has {digits} decimals", {"amount": f"at most {digits} decimals"})
    return int(minor)
