"""Invoice PDFs in the documents bucket: uploaded and downloaded with short-lived presigned URLs."""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime

from relance import clock
from relance.aws import client
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.errors import NotFound
from relance.services.access import require_admin
from relance.services.ledger import visible_invoice
from relance.settings import get_settings
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


def invoice_pdf_key(org_id: str, invoice_id: str) -> str:
    return f"{org_id}/invoices/{invoice_id}.pdf"


def start_pdf_upload(principal: Principal, invoice_id: str) -> PresignedUpload:
    """A presigned POST for the invoice's PDF (PDF only, size-capped); the invoice then points to it."""
    require_admin(principal)
    invoice = visible_invoice(principal, invoice_id)
    key = invoice_pdf_key(principal.organization_id, invoice_id)
    post = client("s3").generate_presigned_post(
        Bucket=get_settings().documents_bucket,
        Key=key,
        Fields={"Content-Type": "application/pdf"},
        Conditions=[{"Content-Type": "application/pdf"}, ["content-length-range", 1, MAX_PDF_BYTES]],
        ExpiresIn=UPLOAD_SECONDS,
    )
    ledger_store.set_pdf_key(principal.organization_id, invoice["id"], key)
    return PresignedUpload(
        url=post["url"],
        fields=post["fields"],
        expires_at=clock.now() + timedelta(seconds=UPLOAD_SECONDS),
        max_bytes=MAX_PDF_BYTES,
    )


def pdf_download(principal: Principal, invoice_id: str) -> PresignedDownload:
    """A short-lived link to the invoice's PDF; 404 when none was uploaded."""
    invoice = visible_invoice(principal, invoice_id)
    key = invoice.get("pdfKey")
    if not key:
        raise NotFound("this invoice has no PDF")
    url = client("s3").generate_presigned_url(
        "get_object",
        Params={"Bucket": get_settings().documents_bucket, "Key": key, "ResponseContentType": "application/pdf"},
        ExpiresIn=DOWNLOAD_SECONDS,
    )
    return PresignedDownload(url=url, expires_at=clock.now() + timedelta(seconds=DOWNLOAD_SECONDS))
