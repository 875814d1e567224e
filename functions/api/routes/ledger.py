"""Invoices, payments, credit notes and refunds."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.ledger import (
    CreditNoteFields,
    Invoice,
    InvoiceFields,
    InvoicePatch,
    InvoiceStatus,
    MoneyRecord,
    PaymentFields,
    RefundFields,
)
from relance.domain.organizations import Principal
from relance.services import disputes_and_promises, documents, ledger
from relance.services.disputes_and_promises import DisputeResolution, PromiseReset
from relance.services.documents import PresignedDownload, PresignedUpload

router = Router()
Caller = Annotated[Principal, Depends(caller)]
Limit = Annotated[int, Query(ge=1, le=200)]
CustomerId = Annotated[str, Query(alias="customerId")]


@router.get("/v1/invoices", tags=["invoices"], summary="Invoices of a customer, or of the organization")
def list_invoices(
    principal: Caller,
    customer_id: Annotated[str | None, Query(alias="customerId")] = None,
    status: InvoiceStatus | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> Page[Invoice]:
    items, next_cursor = ledger.list_invoices(principal, customer_id, status, limit, cursor)
    return Page[Invoice](items=items, next_cursor=next_cursor)


@router.post("/v1/invoices", status_code=201, tags=["invoices"], summary="Create an invoice")
def create_invoice(principal: Caller, body: InvoiceFields) -> tuple[Invoice, int]:
    return ledger.create_invoice(principal, body), 201


@router.get("/v1/invoices/<invoice_id>", tags=["invoices"], summary="An invoice")
def get_invoice(principal: Caller, invoice_id: str) -> Invoice:
    return ledger.get_invoice(principal, invoice_id)


@router.patch("/v1/invoices/<invoice_id>", tags=["invoices"], summary="Change an invoice")
def update_invoice(principal: Caller, invoice_id: str, body: InvoicePatch) -> Invoice:
    return ledger.update_invoice(principal, invoice_id, body)


@router.post("/v1/invoices/<invoice_id>/void", tags=["invoices"], summary="Void an invoice nothing was paid on")
def void_invoice(principal: Caller, invoice_id: str) -> Invoice:
    return ledger.void_invoice(principal, invoice_id)


@router.post("/v1/invoices/<invoice_id>/resolve-dispute", tags=["invoices"], summary="Close the customer's dispute")
def resolve_dispute(principal: Caller, invoice_id: str, body: DisputeResolution) -> Invoice:
    return disputes_and_promises.resolve_dispute(principal, invoice_id, body)


@router.post(
    "/v1/invoices/<invoice_id>/reset-promise",
    tags=["invoices"],
    summary="Clear the customer's promise to pay (it may promise again on the portal)",
)
def reset_promise(principal: Caller, invoice_id: str, body: PromiseReset) -> Invoice:
    return disputes_and_promises.reset_promise(principal, invoice_id, body)


@router.post(
    "/v1/invoices/<invoice_id>/pdf",
    status_code=201,
    tags=["invoices"],
    summary="Upload the invoice PDF (presigned POST)",
)
def start_pdf_upload(principal: Caller, invoice_id: str) -> tuple[PresignedUpload, int]:
    return documents.start_pdf_upload(principal, invoice_id), 201


@router.get("/v1/invoices/<invoice_id>/pdf", tags=["invoices"], summary="A short-lived link to the invoice PDF")
def get_pdf(principal: Caller, invoice_id: str) -> PresignedDownload:
    return documents.pdf_download(principal, invoice_id)


@router.get("/v1/payments", tags=["payments"], summary="Payments of a customer")
def list_payments(
    principal: Caller, customer_id: CustomerId, limit: Limit = 50, cursor: str | None = None
) -> Page[MoneyRecord]:
    items, next_cursor = ledger.list_records(principal, "payment", customer_id, limit, cursor)
    return Page[MoneyRecord](items=items, next_cursor=next_cursor)


@router.post(
    "/v1/payments", status_code=201, tags=["payments"], summary="Record a payment (allocations settle invoices)"
)
def create_payment(principal: Caller, body: PaymentFields) -> tuple[MoneyRecord, int]:
    return ledger.record_payment(principal, body), 201


@router.get("/v1/payments/<payment_id>", tags=["payments"], summary="A payment")
def get_payment(principal: Caller, payment_id: str) -> MoneyRecord:
    return ledger.get_record(principal, "payment", payment_id)


@router.get("/v1/credit-notes", tags=["credit notes"], summary="Credit notes of a customer")
def list_credit_notes(
    principal: Caller, customer_id: CustomerId, limit: Limit = 50, cursor: str | None = None
) -> Page[MoneyRecord]:
    items, next_cursor = ledger.list_records(principal, "credit_note", customer_id, limit, cursor)
    return Page[MoneyRecord](items=items, next_cursor=next_cursor)


@router.post("/v1/credit-notes", status_code=201, tags=["credit notes"], summary="Record a credit note")
def create_credit_note(principal: Caller, body: CreditNoteFields) -> tuple[MoneyRecord, int]:
    return ledger.record_credit_note(principal, body), 201


@router.get("/v1/credit-notes/<credit_note_id>", tags=["credit notes"], summary="A credit note")
def get_credit_note(principal: Caller, credit_note_id: str) -> MoneyRecord:
    return ledger.get_record(principal, "credit_note", credit_note_id)


@router.get("/v1/refunds", tags=["refunds"], summary="Refunds of a customer")
def list_refunds(
    principal: Caller, customer_id: CustomerId, limit: Limit = 50, cursor: str | None = None
) -> Page[MoneyRecord]:
    items, next_cursor = ledger.list_records(principal, "refund", customer_id, limit, cursor)
    return Page[MoneyRecord](items=items, next_cursor=next_cursor)


@router.post(
    "/v1/refunds", status_code=201, tags=["refunds"], summary="Record a refund (consumes the customer's credit)"
)
def create_refund(principal: Caller, body: RefundFields) -> tuple[MoneyRecord, int]:
    return ledger.record_refund(principal, body), 201
