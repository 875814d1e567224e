"""Files in S3: the documents bucket (invoice PDFs, letters, attachments), written here or by the
browser through a presigned POST, read back through short-lived presigned URLs.

Object keys start with the organization, like the table's: ``<org>/invoices/<invoice>.pdf``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from relance.aws import client
from relance.settings import get_settings


def invoice_pdf_key(org_id: str, invoice_id: str) -> str:
    """An invoice's PDF, uploaded by the team."""
    return f"{org_id}/invoices/{invoice_id}.pdf"


def letter_key(org_id: str, action_id: str) -> str:
    """The PDF of a letter a dunning action wrote, to be posted."""
    return f"{org_id}/letters/{action_id}.pdf"


def safe_name(name: str) -> str:
    """A file name safe in an object key and a header: letters, digits, ``._- `` only."""
    cleaned = re.sub(r"[^\w.\- ]+", "_", name).strip(" .") or "attachment"
    return cleaned[-120:]


def note_file_key(org_id: str, note_id: str, attachment_id: str, filename: str) -> str:
    """A file of a note, uploaded by the team."""
    return f"{org_id}/notes/{note_id}/{attachment_id}-{safe_name(filename)}"


def reply_file_key(org_id: str, message_id: str, index: int, filename: str) -> str:
    """The ``index``-th file (from 1) of a customer's reply, or of an answer to one."""
    return f"{org_id}/replies/{message_id}/{index}-{safe_name(filename)}"


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


def delete(key: str) -> None:
    """DeleteObject ``key`` in the documents bucket."""
    client("s3").delete_object(Bucket=get_settings().documents_bucket, Key=key)


def upload_origins() -> tuple[str, ...]:
    """Where a browser posts the presigned POSTs' files (for a page's CSP ``connect-src``): the custom
    endpoint when there is one (moto, locally), else the documents bucket on S3."""
    endpoint = urlsplit(str(client("s3").meta.endpoint_url))
    if not endpoint.hostname or not endpoint.hostname.endswith(".amazonaws.com"):
        return (f"{endpoint.scheme}://{endpoint.netloc}",)
    bucket, region = get_settings().documents_bucket, get_settings().aws_region
    return (f"https://{bucket}.s3.amazonaws.com", f"https://{bucket}.s3.{region}.amazonaws.com")


def read_message(bucket: str, key: str) -> bytes:
    """GetObject ``bucket``/``key``: a raw message (MIME) as SES stored it in the inbound bucket."""
    return bytes(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def message_url(bucket: str, key: str, expires_in: int, *, disposition: str) -> str:
    """A presigned GET of the raw message SES stored at ``bucket``/``key``, as ``message/rfc822`` with the
    ``Content-Disposition`` ``disposition``, for ``expires_in`` seconds."""
    params = {
        "Bucket": bucket,
        "Key": key,
        "ResponseContentDisposition": disposition,
        "ResponseContentType": "message/rfc822",
    }
    return str(client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))
