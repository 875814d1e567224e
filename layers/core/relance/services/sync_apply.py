"""Applying what a source system hands over (a ``relance.domain.sync.Batch``) through Relance's own services.

Each source record goes through the service the API's write goes through, found again by its external id,
so balances, ratings, timelines and dunning nudges follow as for an API write; the writes are made by a
system principal (``sync:<name>``), an administrator of the organization. Applying a record twice changes
nothing: customers, contacts and invoices are compared with what is stored and only a difference is
written; payments, credit notes and refunds get a stable id from the source's (``relance.ids.stable_id``),
so a second delivery finds the first. A record that cannot be applied (its customer unknown, a rule of the
ledger refused it) becomes a ``RecordError`` and the rest of the batch goes on; anything else (AWS failing)
stops the batch, whose cursor is then not kept: the next run applies it again.

What each synced record keeps read-only is recorded on it (``syncedFrom``, ``syncedFields``) and enforced by
``relance.services.synced_fields`` (docs/integrations.md, "Synced fields").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError

from relance import clock
from relance.domain.customers import ContactFields, ContactPatch, CustomerFields, CustomerPatch
from relance.domain.integrations import KindCounts, Outcome, changed, label_of
from relance.domain.ledger import (
    Allocation,
    CreditNoteFields,
    InvoiceFields,
    InvoicePatch,
    InvoiceStatus,
    PaymentFields,
    RefundFields,
)
from relance.domain.organizations import Principal
from relance.domain.sync import (
    Batch,
    CustomerLink,
    IntegrationName,
    RecordError,
    RecordKind,
    Removal,
    SourceAccountOwner,
    SourceAllocation,
    SourceContact,
    SourceContactUpdate,
    SourceCreditNote,
    SourceCustomer,
    SourceInvoice,
    SourcePayment,
    SourceRecord,
    SourceRefund,
)
from relance.domain.users import UserFields
from relance.errors import Invalid, RelanceError, validation_fields
from relance.ids import stable_id
from relance.observability import logger
from relance.services import contacts, customers, dunning, ledger, users
from relance.settings import get_settings
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import integrations as store
from relance.storage import ledger as ledger_store
from relance.storage import users as user_store
from relance.sync import Connector, SourceUnavailable

MONEY_PREFIXES = {"payment": "pay", "credit_note": "crn", "refund": "ref"}


def money_id(kind: str, org_id: str, name: str, external_id: str) -> str:
    """The Relance id of a source's payment, credit note or refund: the same for every delivery of it."""
    return stable_id(MONEY_PREFIXES[kind], org_id, name, external_id)


def system_principal(org_id: str, name: str) -> Principal:
    """Who sync writes as: an administrator of the organization, named ``sync:<name>`` on timelines."""
    return Principal(organization_id=org_id, role="admin", principal_id=f"sync:{name}")


def describe(error: RelanceError | ValidationError) -> str:
    """A refusal as one line for the errors list: its message and the fields it names."""
    if isinstance(error, ValidationError):
        fields = validation_fields(error.errors())
        return "; ".join(f"{k}: {v}" for k, v in fields.items()) or "invalid record"
    named = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    return f"{error.message} ({named})" if named else error.message


@dataclass
class BatchResult:
    """What applying one batch did: counts per kind, the records refused, the records applied."""

    counts: dict[RecordKind, KindCounts] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    applied: list[tuple[str, str]] = field(default_factory=list)

    def count(self, kind: RecordKind, outcome: str) -> None:
        counts = self.counts.setdefault(kind, KindCounts())
        setattr(counts, outcome, getattr(counts, outcome) + 1)


@dataclass
class Applier:
    """Applies batches of one connection of one organization."""

    org_id: str
    name: IntegrationName
    connector: Connector | None = None
    """Given, the customers of a CRM get their Relance page written back (``write_back_link``)."""

    def __post_init__(self) -> None:
        self.principal = system_principal(self.org_id, self.name)
        self.source = label_of(self.name)

    def apply(self, batch: Batch) -> BatchResult:
        """Every record and removal of ``batch``, in order; each refusal kept as a ``RecordError``."""
        result = BatchResult()
        for error in batch.errors:
            result.errors.append(error)
            result.count(error.kind, "errors")
        for record in batch.records:
            self._one(result, record.kind, _external_id(record), partial(self._record, record))
        for removal in batch.removals:
            self._one(result, removal.kind, removal.external_id, partial(self._removal, removal))
        return result

    def _one(self, result: BatchResult, kind: RecordKind, external_id: str, apply: Callable[[], Outcome]) -> None:
        try:
            outcome = apply()
        except (RelanceError, ValidationError) as error:
            message = describe(error)
            logger.info("source record not applied", integration=self.name, kind=kind, reason=message)
            result.errors.append(RecordError(kind=kind, external_id=external_id, message=message))
            result.count(kind, "errors")
            return
        result.applied.append((kind, external_id))
        result.count(kind, outcome)

    def _record(self, record: SourceRecord) -> Outcome:
        if isinstance(record, SourceCustomer):
            return self.customer(record)
        if isinstance(record, SourceInvoice):
            return self.invoice(record)
        if isinstance(record, SourcePayment):
            return self.payment(record)
        if isinstance(record, SourceCreditNote):
            return self.credit_note(record)
        if isinstance(record, SourceRefund):
            return self.refund(record)
        if isinstance(record, SourceAccountOwner):
            return self.account_owner(record)
        return self.contacts(record)

    # ------------------------------------------------------------ customers and contacts

    def customer_id(self, external_id: str) -> str:
        """The customer the source knows as ``external_id``; refused while it has not been synced."""
        customer_id = customer_store.customer_id_by_external_id(self.org_id, external_id)
        if customer_id is None:
            raise Invalid(
                f"customer {external_id} is not synced yet", {"customerExternalId": "no customer with this id"}
            )
        return customer_id

    def customer(self, record: SourceCustomer) -> Outcome:
        """Create the customer, or change only its synced fields: its workflow, account managers, tags,
        custom fields and payment methods are Relance's. Voided at the source: deleted there (below)."""
        existing = customer_store.customer_id_by_external_id(self.org_id, record.external_id)
        if record.voided:
            return self.customer_removed(existing)
        synced = {"externalId": record.external_id, "name": record.name}
        if record.currency:
            synced["currency"] = record.currency
        outcome: Outcome
        if existing is None:
            fields = CustomerFields(
                external_id=record.external_id, name=record.name, currency=record.currency, language=record.language
            )
            customer_id, outcome = customers.create_customer(self.principal, fields).id, "created"
            item: dict[str, Any] = {}
        else:
            customer_id = existing
            item = customer_store.get_customer(self.org_id, customer_id, consistent=True) or {}
            changes = changed(item, synced)
            if changes:
                customers.update_customer(self.principal, customer_id, CustomerPatch.model_validate(changes))
            outcome = "updated" if changes else "unchanged"
            if item.get("deletedAtSource"):  # back at the source: back in dunning
                store.mark_customer(self.org_id, customer_id, "deletedAtSource", None)
                dunning.resume(self.principal, customer_id)
                outcome = "updated"
        self.mark(item, "customer", customer_id, list(synced))
        if self.upsert_contacts(customer_id, record.contacts) and outcome == "unchanged":
            outcome = "updated"
        self.write_back_link(customer_id, record.external_id, item)
        return outcome

    def customer_removed(self, customer_id: str | None) -> Outcome:
        """Deleted at the source: kept here with its ledger, marked and out of dunning; never dropped."""
        if customer_id is None:
            return "unchanged"
        item = customer_store.get_customer(self.org_id, customer_id, consistent=True) or {}
        if item.get("deletedAtSource"):
            return "unchanged"
        store.mark_customer(self.org_id, customer_id, "deletedAtSource", clock.now().isoformat())
        if not item.get("collectionPaused"):
            dunning.pause(self.principal, customer_id)
        return "voided"

    def contacts(self, record: SourceContactUpdate) -> Outcome:
        customer_id = self.customer_id(record.customer_external_id)
        changed_any = self.upsert_contacts(customer_id, record.contacts)
        self.write_back_link(customer_id, record.customer_external_id)
        return "updated" if changed_any else "unchanged"

    def upsert_contacts(self, customer_id: str, listed: list[SourceContact]) -> bool:
        """Each contact the source lists, found by email within the customer: created, or its synced
        fields refreshed (its position and the bounces Relance saw stay). True when anything changed."""
        if not listed:
            return False
        stored = {str(c["email"]).lower(): c for c in contact_store.contacts_of(self.org_id, customer_id)}
        main = (customer_store.get_customer(self.org_id, customer_id, consistent=True) or {}).get("mainContactId")
        any_change = False
        for source in listed:
            given = source.model_dump(by_alias=True, exclude={"is_main"}, exclude_none=True)
            given["email"] = source.email.strip().lower()
            found = stored.get(given["email"])
            if found is None:
                fields = ContactFields.model_validate({**given, "isMain": source.is_main})
                contact = contacts.create_contact(self.principal, customer_id, fields)
                contact_id, item, any_change = contact.id, {}, True
                main = contact.id if contact.is_main else main
            else:
                contact_id, item = str(found["id"]), found
                changes = changed(found, given)
                make_main = source.is_main and main != contact_id
                if changes or make_main:
                    patch = ContactPatch.model_validate({**changes, **({"isMain": True} if make_main else {})})
                    contacts.update_contact(self.principal, contact_id, patch)
                    any_change = True
                    main = contact_id if make_main else main
            self.mark(item, "contact", contact_id, list(given))
        return any_change

    def mark(self, item: dict[str, Any], kind: str, record_id: str, fields: list[str]) -> None:
        """``syncedFrom`` and ``syncedFields`` on the record, written only when they differ."""
        if item.get("syncedFrom") != self.name or sorted(item.get("syncedFields") or []) != sorted(fields):
            store.mark_synced(self.org_id, kind, record_id, self.name, fields)

    def write_back_link(self, customer_id: str, external_id: str, item: dict[str, Any] | None = None) -> None:
        """A CRM's account links to its Relance page, written once per customer the CRM's records touch
        (``item``: the customer as already read, else read here)."""
        if self.connector is None or self.name != "salesforce":
            return
        if item is None:
            item = customer_store.get_customer(self.org_id, customer_id) or {}
        if item.get("sourceLinkWrittenAt"):
            return
        url = f"{get_settings().public_base_url}/customers/{customer_id}"
        if self.connector.write_back_link(CustomerLink(customer_external_id=external_id, url=url)):
            store.mark_customer(self.org_id, customer_id, "sourceLinkWrittenAt", clock.now().isoformat())

    # ------------------------------------------------------------ invoices

    def invoice(self, record: SourceInvoice) -> Outcome:
        """Create or update the invoice by its external id; voided at the source, voided here."""
        customer_id = self.customer_id(record.customer_external_id)
        pdf_url = record.pdf_url if record.pdf_url and record.pdf_url.startswith("https://") else None
        if record.pdf_url and not pdf_url:
            logger.warning("invoice PDF not on https: not linked", integration=self.name)
        wanted: dict[str, Any] = {
            "number": record.number,
            "amount": record.amount,
            "issuedAt": record.issued_at.isoformat(),
            "dueAt": record.due_at.isoformat(),
        }
        if pdf_url:
            wanted["pdfUrl"] = pdf_url
        synced = ["externalId", "customerId", "currency", *wanted]
        invoice_id = ledger_store.invoice_id_by_external_id(self.org_id, record.external_id)
        if invoice_id is None:
            fields = InvoiceFields.model_validate(
                {**wanted, "customerId": customer_id, "externalId": record.external_id, "currency": record.currency}
            )
            invoice_id = ledger.create_invoice(self.principal, fields).id
            self.mark({}, "invoice", invoice_id, synced)
            if record.voided:  # voided before Relance saw it: kept, voided, never dropped
                ledger.void_invoice(self.principal, invoice_id)
            return "created"
        before = ledger_store.get_invoice(self.org_id, invoice_id) or {}
        self.check_same_invoice(before, customer_id, record)
        self.mark(before, "invoice", invoice_id, synced)
        if before.get("status") == InvoiceStatus.VOIDED:
            if record.voided:
                return "unchanged"
            raise Invalid("the invoice is voided in Relance: it cannot be opened again", {"voided": "voided"})
        changes = changed(before, wanted)
        if changes:
            ledger.update_invoice(self.principal, invoice_id, InvoicePatch.model_validate(changes))
        if record.voided:
            ledger.void_invoice(self.principal, invoice_id)
            return "voided"
        return "updated" if changes else "unchanged"

    @staticmethod
    def check_same_invoice(before: dict[str, Any], customer_id: str, record: SourceInvoice) -> None:
        if before.get("customerId") != customer_id:
            raise Invalid(
                "the invoice belongs to another customer in Relance: it cannot move",
                {"customerExternalId": "differs from the invoice's customer"},
            )
        if before.get("currency") != record.currency:
            raise Invalid(
                f"the invoice is in {before.get('currency')} in Relance: its currency cannot change",
                {"currency": "differs from the invoice's"},
            )

    # ------------------------------------------------------------ money

    def allocations(self, allocations: list[SourceAllocation]) -> list[Allocation]:
        found = []
        for index, allocation in enumerate(allocations):
            invoice_id = ledger_store.invoice_id_by_external_id(self.org_id, allocation.invoice_external_id)
            if invoice_id is None:
                raise Invalid(
                    f"invoice {allocation.invoice_external_id} is not synced yet",
                    {f"allocations[{index}].invoiceExternalId": "no invoice with this id"},
                )
            found.append(Allocation(invoice_id=invoice_id, amount=allocation.amount))
        return found

    def existing_money(
        self, kind: str, record: SourcePayment | SourceCreditNote | SourceRefund
    ) -> dict[str, Any] | None:
        """The record already applied (by its stable id, or as the payment Relance wrote back), or None;
        voided at the source once recorded: refused, as Relance does not reverse money recorded."""
        record_id = money_id(kind, self.org_id, self.name, record.external_id)
        existing = ledger_store.get_record(self.org_id, kind, record_id)
        ours = False  # a payment of Relance's written back: the source holds one invoice's part of it
        if existing is None:
            own = store.written_back_record(self.org_id, self.name, kind, record.external_id)
            existing = ledger_store.get_record(self.org_id, kind, own) if own else None
            ours = existing is not None
        if existing is not None and record.voided:
            raise Invalid(
                f"voided in {self.source}, but Relance cannot reverse a recorded {kind.replace('_', ' ')}: "
                "record the opposite movement (a refund, a credit note) in Relance",
                {"voided": "recorded already"},
            )
        recorded = (int(existing["amount"]), existing["currency"]) if existing is not None else None
        if recorded is not None and not ours and recorded != (record.amount, record.currency):
            raise Invalid(
                f"changed in {self.source} after Relance recorded it: Relance keeps the first amount",
                {"amount": f"{recorded[0]} {recorded[1]} recorded"},
            )
        return existing

    def payment(self, record: SourcePayment) -> Outcome:
        customer_id = self.customer_id(record.customer_external_id)
        if self.existing_money("payment", record) is not None:
            return "unchanged"
        if record.voided:  # voided before Relance saw it: nothing to record
            return "unchanged"
        allocations = self.allocations(record.allocations)
        if store.write_back_in_flight(self.org_id, self.name, {a.invoice_id for a in allocations}):
            # Perhaps the source's copy of a payment of Relance's, told before Relance knows it as its own: read
            # again later (the run keeps its cursor, a webhook is delivered again), never recorded twice.
            raise SourceUnavailable(f"a payment of Relance's to this invoice is being written to {self.source}")
        fields = PaymentFields(
            customer_id=customer_id,
            amount=record.amount,
            currency=record.currency,
            received_at=record.received_at,
            allocations=allocations,
            reference=record.reference,
        )
        ledger.record_payment(self.principal, fields, money_id("payment", self.org_id, self.name, record.external_id))
        return "created"

    def credit_note(self, record: SourceCreditNote) -> Outcome:
        customer_id = self.customer_id(record.customer_external_id)
        if self.existing_money("credit_note", record) is not None or record.voided:
            return "unchanged"
        fields = CreditNoteFields(
            customer_id=customer_id,
            amount=record.amount,
            currency=record.currency,
            issued_at=record.issued_at,
            number=record.number,
            allocations=self.allocations(record.allocations),
        )
        record_id = money_id("credit_note", self.org_id, self.name, record.external_id)
        ledger.record_credit_note(self.principal, fields, record_id)
        return "created"

    def refund(self, record: SourceRefund) -> Outcome:
        customer_id = self.customer_id(record.customer_external_id)
        if self.existing_money("refund", record) is not None or record.voided:
            return "unchanged"
        note = record.credit_note_external_id
        fields = RefundFields(
            customer_id=customer_id,
            amount=record.amount,
            currency=record.currency,
            refunded_at=record.refunded_at,
            credit_note_id=money_id("credit_note", self.org_id, self.name, note) if note else None,
            reference=record.reference,
        )
        ledger.record_refund(self.principal, fields, money_id("refund", self.org_id, self.name, record.external_id))
        return "created"

    # ------------------------------------------------------------ account owners

    def account_owner(self, record: SourceAccountOwner) -> Outcome:
        """The CRM's account owner: a user of the organization (invited as an account manager when new),
        added to the account managers of the customers listed (others it manages are left as they are)."""
        email = record.email.strip().lower()
        user = user_store.find_by_email(self.org_id, email)
        outcome: Outcome = "unchanged"
        if user is None:
            name = " ".join(p for p in (record.first_name, record.last_name) if p) or email.split("@")[0]
            fields = UserFields.model_validate({"email": email, "name": name, "role": "account_manager"})
            created = users.create_user(self.principal, fields)
            user_id, outcome = created.id, "created"
        else:
            user_id = str(user["id"])
        unknown = []
        for external_id in record.customer_external_ids:
            customer_id = customer_store.customer_id_by_external_id(self.org_id, external_id)
            if customer_id is None:
                unknown.append(external_id)
                continue
            item = customer_store.get_customer(self.org_id, customer_id, consistent=True) or {}
            managers = list(item.get("accountManagerIds") or [])
            if user_id not in managers:
                patch = CustomerPatch(account_manager_ids=[*managers, user_id])
                customers.update_customer(self.principal, customer_id, patch)
                outcome = "updated" if outcome == "unchanged" else outcome
            self.write_back_link(customer_id, external_id, item)
        if unknown:
            raise Invalid(
                f"customers not synced yet: {', '.join(unknown)}", {"customerExternalIds": "no customer with these ids"}
            )
        return outcome

    # ------------------------------------------------------------ removals

    def _removal(self, removal: Removal) -> Outcome:
        """A record deleted at the source: voided (or, for a customer, marked and out of dunning)."""
        kind, external_id = removal.kind, removal.external_id
        if kind == "customer":
            return self.customer_removed(customer_store.customer_id_by_external_id(self.org_id, external_id))
        if kind == "invoice":
            invoice_id = ledger_store.invoice_id_by_external_id(self.org_id, external_id)
            invoice = ledger_store.get_invoice(self.org_id, invoice_id) if invoice_id else None
            if invoice is None or invoice.get("status") == InvoiceStatus.VOIDED:
                return "unchanged"
            ledger.void_invoice(self.principal, str(invoice["id"]))
            return "voided"
        if kind in MONEY_PREFIXES:
            record_id = money_id(kind, self.org_id, self.name, external_id)
            if ledger_store.get_record(self.org_id, kind, record_id) is None:
                return "unchanged"
            raise Invalid(
                f"deleted in {self.source}, but Relance cannot reverse a recorded {kind.replace('_', ' ')}: "
                "record the opposite movement (a refund, a credit note) in Relance",
                {"removed": "recorded already"},
            )
        if kind == "contact":
            return self.contact_removed(external_id)
        return "unchanged"  # an account owner gone from the CRM stays a user: people remove people

    def contact_removed(self, email: str) -> Outcome:
        """The source's contacts with this address are deleted (those Relance's people added stay)."""
        email = email.strip().lower()
        outcome: Outcome = "unchanged"
        for found in contact_store.contacts_by_mail(self.org_id, email.rpartition("@")[2], email):
            contact = contact_store.get_contact(self.org_id, str(found["id"])) or {}
            if contact.get("syncedFrom") == self.name:
                contacts.delete_contact(self.principal, str(contact["id"]))
                outcome = "voided"
        return outcome


def _external_id(record: SourceRecord) -> str:
    return record.customer_external_id if isinstance(record, SourceContactUpdate) else record.external_id
