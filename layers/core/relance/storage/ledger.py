"""Invoices, payments, credit notes and refunds: items and their transaction entries."""

from __future__ import annotations

from typing import Any

from relance.storage import keys
from relance.storage.records import customer_kinds, get, of_customer, under_prefix
from relance.storage.table import delete, put, table, update, update_if

PREFIX = {"invoice": "INV", **keys.LEDGER_PREFIXES}


def get_invoice(org_id: str, invoice_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``INV#<id>`` (strongly consistent: its version guards updates)."""
    return get(keys.invoice(org_id, invoice_id), consistent=True)


def invoice_id_by_external_id(org_id: str, external_id: str) -> str | None:
    """GetItem ``ORG#<org>``/``INVEXT#<externalId>``."""
    item = get(keys.invoice_external_id(org_id, external_id))
    return item["invoiceId"] if item else None


def get_record(org_id: str, kind: str, record_id: str) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``PAY#|CRN#|REF#<id>``."""
    return get(keys.money_record(org_id, kind, record_id), consistent=True)


def records_of(org_id: str, customer_id: str, kind: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#CUS#<customer>``: a customer's invoices or money records, oldest first."""
    return of_customer(org_id, customer_id, PREFIX[kind])


def ledger_of(org_id: str, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """A customer's invoices, payments, credit notes and refunds, by kind (``records_of``'s names), in two
    Queries of GSI1 ``ORG#<org>#CUS#<customer>``: ``CRN``…``INV`` (the customer's own entry between them)
    and ``PAY``…``REF`` (its pinned notes between them) — not its notes, which sort between the two."""
    found = customer_kinds(org_id, customer_id, PREFIX["credit_note"], PREFIX["invoice"])
    found |= customer_kinds(org_id, customer_id, PREFIX["payment"], PREFIX["refund"])
    return {kind: found.get(prefix, []) for kind, prefix in PREFIX.items()}


def invoices_of_organization(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``INV#``: every invoice of the organization."""
    return under_prefix(keys.invoice(org_id, ""))


def records_of_organization(org_id: str, kind: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``PAY#`` / ``CRN#`` / ``REF#``: every payment, credit note or
    refund of the organization (analytics)."""
    return under_prefix(keys.money_record(org_id, kind, ""))


def new_invoice_entries(org_id: str, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    index = keys.record_index_entry(org_id, invoice["customerId"], "INV", invoice["issuedAt"], invoice["id"])
    entries = [put({**keys.invoice(org_id, invoice["id"]), **index, **invoice}, condition="attribute_not_exists(PK)")]
    if invoice.get("externalId"):
        guard = {**keys.invoice_external_id(org_id, invoice["externalId"]), "invoiceId": invoice["id"]}
        entries.append(put(guard, condition="attribute_not_exists(PK)"))
    return entries


def invoice_update_entry(org_id: str, invoice: dict[str, Any], version: int) -> dict[str, Any]:
    """Rewrite an invoice if nobody changed it since ``version`` was read."""
    index = keys.record_index_entry(org_id, invoice["customerId"], "INV", invoice["issuedAt"], invoice["id"])
    item = {**keys.invoice(org_id, invoice["id"]), **index, **invoice, "version": version + 1}
    return put(item, condition="attribute_exists(PK) AND version = :version", values={":version": version})


def external_id_entries(org_id: str, invoice_id: str, old: str | None, new: str | None) -> list[dict[str, Any]]:
    entries = []
    if old and old != new:
        entries.append(delete(keys.invoice_external_id(org_id, old)))
    if new and old != new:
        guard = {**keys.invoice_external_id(org_id, new), "invoiceId": invoice_id}
        entries.append(put(guard, condition="attribute_not_exists(PK)"))
    return entries


def new_record_entry(org_id: str, kind: str, record: dict[str, Any], when: str) -> dict[str, Any]:
    index = keys.record_index_entry(org_id, record["customerId"], PREFIX[kind], when, record["id"])
    item = {**keys.money_record(org_id, kind, record["id"]), **index, **record}
    return put(item, condition="attribute_not_exists(PK)")


def record_unapplied_entry(org_id: str, kind: str, record_id: str, delta: int, version: int) -> dict[str, Any]:
    """Change what is left unapplied of a payment or credit note (e.g. a refund consumes it)."""
    return update(
        keys.money_record(org_id, kind, record_id),
        "SET unapplied = unapplied + :d, version = version + :one",
        values={":d": delta, ":one": 1, ":v": version},
        condition="version = :v",
    )


def set_pdf_key(org_id: str, invoice_id: str, key: str) -> None:
    """Point the invoice at its PDF in the documents bucket."""
    table().update_item(
        Key=keys.invoice(org_id, invoice_id),
        UpdateExpression="SET pdfKey = :k",
        ExpressionAttributeValues={":k": key},
        ConditionExpression="attribute_exists(PK)",
    )


def set_invoice_mark(org_id: str, invoice_id: str, field: str, value: Any) -> None:
    """Set ``disputed``, ``promisedUntil`` or ``paymentInFlight`` on an invoice (its version moves,
    so a concurrent ledger rewrite reads it again instead of dropping the mark)."""
    table().update_item(
        Key=keys.invoice(org_id, invoice_id),
        UpdateExpression="SET #f = :v, version = version + :one",
        ExpressionAttributeNames={"#f": field},
        ExpressionAttributeValues={":v": value, ":one": 1},
        ConditionExpression="attribute_exists(PK)",
    )


def clear_mark_entry(org_id: str, invoice_id: str, field: str) -> dict[str, Any]:
    """The transaction entry that removes a mark the invoice has; its condition fails when it has none."""
    return update(
        keys.invoice(org_id, invoice_id),
        "REMOVE #f SET version = version + :one",
        names={"#f": field},
        values={":one": 1},
        condition="attribute_exists(#f)",
    )


def clear_invoice_mark(org_id: str, invoice_id: str, field: str, only_if: Any = None) -> bool:
    """Remove a mark (only when it still holds ``only_if``, if given); False when nothing changed."""
    condition = "attribute_exists(#f)" if only_if is None else "#f = :v"
    values: dict[str, Any] = {":one": 1}
    if only_if is not None:
        values[":v"] = only_if
    return update_if(
        keys.invoice(org_id, invoice_id),
        "REMOVE #f SET version = version + :one",
        condition,
        values,
        names={"#f": field},
    )


def promise_entry(org_id: str, invoice_id: str, promised_for: str, today: str, allowed: int) -> dict[str, Any]:
    """A customer's promise on an open invoice, counted, if it has no promise running or broken and has
    fewer than ``allowed`` counted (the check that ``domain.portal.check_promise_allowed`` made, held
    at write time)."""
    return update(
        keys.invoice(org_id, invoice_id),
        "SET promisedUntil = :d, promiseCount = if_not_exists(promiseCount, :zero) + :one, version = version + :one",
        names={"#s": "status"},
        values={":d": promised_for, ":today": today, ":open": "open", ":zero": 0, ":one": 1, ":allowed": allowed},
        condition="attribute_exists(PK) AND #s = :open AND attribute_not_exists(promiseBroken)"
        " AND (attribute_not_exists(promisedUntil) OR promisedUntil < :today)"
        " AND (attribute_not_exists(promiseCount) OR promiseCount < :allowed)",
    )


def break_promise(org_id: str, invoice_id: str, promised: str) -> bool:
    """The promise for ``promised`` was not kept: ``promisedUntil`` becomes ``promiseBroken`` (if it is
    still that promise); False when nothing changed."""
    return update_if(
        keys.invoice(org_id, invoice_id),
        "REMOVE promisedUntil SET promiseBroken = :p, version = version + :one",
        "promisedUntil = :p",
        {":p": promised, ":one": 1},
    )


def reset_promise_entry(org_id: str, invoice_id: str) -> dict[str, Any]:
    """The transaction entry that clears the customer's promises on an invoice (running, broken and
    their count); its condition fails when there is none."""
    return update(
        keys.invoice(org_id, invoice_id),
        "REMOVE promisedUntil, promiseBroken, promiseCount SET version = version + :one",
        values={":one": 1},
        condition="attribute_exists(promisedUntil) OR attribute_exists(promiseBroken)"
        " OR attribute_exists(promiseCount)",
    )
