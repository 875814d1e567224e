"""Forms that carry files: ``multipart/form-data`` read with the standard library's MIME parser.

Files that pass through the web function are capped by Lambda's 6 MB request payload (the body
arrives base64, a third larger): ``MAX_FORM_BYTES`` together. With JavaScript, a note's files skip
the function: the form declares them (``fileName``, ``fileType``, ``fileSize``, one each per file),
the answer holds a presigned POST per file, and the browser posts each file straight to S3.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import HTTP
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from relance.errors import Invalid
from relance.services import notes
from relance.web import security
from screens.base import form

MAX_FORM_BYTES = 4 * 1024 * 1024
PRESIGNED = "x-relance-uploads"  # the header of the page's script: answer the presigned uploads as JSON
CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


@dataclass(frozen=True)
class FormFile:
    field: str
    filename: str
    content_type: str
    data: bytes


def read(event: BaseProxyEvent) -> tuple[dict[str, list[str]], list[FormFile]]:
    """A form's fields and files, url-encoded or multipart; a file input left empty is no file."""
    content_type = event.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return form(event), []
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    if len(body) > MAX_FORM_BYTES:
        raise Invalid(
            "files sent through this form are at most 4 MB together",
            {"attachments": f"{len(body)} bytes: at most 4 MB together here; with JavaScript on, up to 15 MB"},
        )
    message = message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body, policy=HTTP)
    fields: dict[str, list[str]] = {}
    files: list[FormFile] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        filename = part.get_filename()
        if filename is None:
            fields.setdefault(name, []).append(payload.decode("utf-8", errors="replace"))
        elif filename and payload:
            files.append(FormFile(name, filename, part.get_content_type(), payload))
    return fields, files


def _content_type(text: str) -> str:
    return text if CONTENT_TYPE.match(text or "") else "application/octet-stream"


def declared(fields: dict[str, list[str]], files: list[FormFile]) -> tuple[list[dict[str, Any]], list[bytes] | None]:
    """The files of a note form: sent (with their contents) or declared by the page's script."""
    if files:
        return [
            {"filename": f.filename, "contentType": _content_type(f.content_type), "size": len(f.data)} for f in files
        ], [f.data for f in files]
    names, types, sizes = fields.get("fileName", []), fields.get("fileType", []), fields.get("fileSize", [])
    if not len(names) == len(types) == len(sizes):
        raise Invalid("please choose the files again", {"attachments": "each file needs its name, type and size"})
    return [
        {"filename": name, "contentType": _content_type(kind), "size": size}
        for name, kind, size in zip(names, types, sizes, strict=True)
    ], None


def json_answer(payload: dict[str, Any], status: int = 200) -> Response[str]:
    """What the page's script reads: the uploads to make, or why nothing was written."""
    headers = {**security.page_headers((), notes.upload_origins()), "Content-Type": "application/json"}
    return Response(status, "application/json", json.dumps(payload), headers=headers)
