"""Invoice PDFs in the documents bucket: uploaded and downloaded with short-lived presigned URLs."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime

from relance import clock
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.errors import NotFound
from relance.services.access import require_admin
from relance.services.ledger import visible_invoice
from relance.storage import files
from relance.storage import ledger as ledger_store

UPLOAD_SECONDS = 900
DOWNLOAD_SECONDS = 300
MAX_PDF_BYTES = 20 * 1024 * 1024


class PresignedUpload(RelanceModel):
    url: str
    fields: dict[str, str]
    expires_at: AwareDatetime
    max_bytes: int


class PresignedDownload(RelanceModel):
    url: str
    expires_at: AwareDatetime


def start_pdf_upload(principal: Principal, invoice_id: str) -> PresignedUpload:
    """A presigned POST for the invoice's PDF (PDF only, size-capped); the invoice then points to it."""
    require_admin(principal)
    invoice = visible_invoice(principal, invoice_id)
    key = files.invoice_pdf_key(principal.organization_id, invoice_id)
    url, fields = files.upload_form(key, "application/pdf", MAX_PDF_BYTES, UPLOAD_SECONDS)
    ledger_store.set_pdf_key(principal.organization_id, invoice["id"], key)
    return PresignedUpload(
        url=url,
        fields=fields,
        expires_at=clock.now() + timedelta(seconds=UPLOAD_SECONDS),
        max_bytes=MAX_PDF_BYTES,
    )


def pdf_download(principal: Principal, invoice_id: str) -> PresignedDownload:
    """A short-lived link to the invoice's PDF; 404 when none was uploaded."""
    invoice = visible_invoice(principal, invoice_id)
    key = invoice.get("pdfKey")
    if not key:
        raise NotFound("this invoice has no PDF")
    url = files.download_url(key, DOWNLOAD_SECONDS, content_type="application/pdf")
    return PresignedDownload(url=url, expires_at=clock.now() + timedelta(seconds=DOWNLOAD_SECONDS))
