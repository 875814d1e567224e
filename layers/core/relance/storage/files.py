"""Files in S3: the documents bucket (invoice PDFs, letters, attachments), written here or by the
browser through a presigned POST, read back through short-lived presigned URLs.

Object keys start with the organization, like the table's: ``<org>/invoices/<invoice>.pdf``.
"""

from __future__ import annotations

from relance.aws import client
from relance.settings import get_settings


def invoice_pdf_key(org_id: str, invoice_id: str) -> str:
    """An invoice's PDF, uploaded by the team."""
    return f"{org_id}/invoices/{invoice_id}.pdf"


def letter_key(org_id: str, action_id: str) -> str:
    """The PDF of a letter a dunning action wrote, to be posted."""
    return f"{org_id}/letters/{action_id}.pdf"


def put(key: str, data: bytes, content_type: str) -> None:
    """PutObject ``key`` in the documents bucket."""
    client("s3").put_object(Bucket=get_settings().documents_bucket, Key=key, Body=data, ContentType=content_type)


def upload_form(key: str, content_type: str, max_bytes: int, expires_in: int) -> tuple[str, dict[str, str]]:
    """A presigned POST (its URL and form fields) that lets a browser upload ``key``: of
    ``content_type`` only, 1 to ``max_bytes`` bytes, for ``expires_in`` seconds."""
    post = client("s3").generate_presigned_post(
        Bucket=get_settings().documents_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )
    return str(post["url"]), dict(post["fields"])


def download_url(key: str, expires_in: int, *, content_type: str | None = None, disposition: str | None = None) -> str:
    """A presigned GET of ``key`` for ``expires_in`` seconds; S3 answers with ``content_type`` and the
    ``Content-Disposition`` ``disposition`` (e.g. ``inline; filename="F-1.pdf"``) when given."""
    params = {"Bucket": get_settings().documents_bucket, "Key": key}
    if content_type:
        params["ResponseContentType"] = content_type
    if disposition:
        params["ResponseContentDisposition"] = disposition
    return str(client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))
