"""Notes on a customer, an invoice or an action: @mentions notify, files upload straight to S3.

A note's files are declared (name, type, size) and uploaded with a presigned POST whose
policy caps each file at its declared size, so a note never holds more than 25 files and
15 MB together. Pinned notes come back with their customer.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints

from relance import clock
from relance.domain.base import OneLine, RelanceModel
from relance.domain.organizations import Principal
from relance.errors import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from relance.ids import new_id
from relance.services import timeline
from relance.services.access import customer_item, person_can_see
from relance.services.authorship import author_of, display_name
from relance.services.notifications import notify
from relance.storage import actions as action_store
from relance.storage import files
from relance.storage import ledger as ledger_store
from relance.storage import notes as store
from relance.storage import users as user_store

MAX_FILES = 25
MAX_TOTAL_BYTES = 15 * 1024 * 1024
MAX_DECLARED_BYTES = 5 * 1024**3
UPLOAD_SECONDS = 900
MENTION = re.compile(r"@(usr_[0-9a-z]{26})\b")

FileName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]


class FileDeclaration(RelanceModel):
    filename: FileName
    content_type: str = Field(default="application/octet-stream", pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=100)
    # Over 15 MB is the 413 of check_files, naming the limit; the bound here only refuses sizes no
    # upload can have (S3 takes at most 5 GiB in one POST).
    size: int = Field(ge=1, le=MAX_DECLARED_BYTES, description="bytes; the upload may not be larger")


class NoteFields(RelanceModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
    invoice_ids: list[str] = Field(default_factory=list, max_length=50, description="invoices the note is about")
    action_id: str | None = Field(default=None, description="the action the note is about")
    pinned: bool = False
    attachments: list[FileDeclaration] = Field(default_factory=list, description=f"at most {MAX_FILES} files")


class NotePatch(RelanceModel):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)] | None = None
    pinned: bool | None = None


class Upload(RelanceModel):
    attachment_id: str
    url: str
    fields: dict[str, str]
    expires_at: AwareDatetime
    max_bytes: int


# ---------------------------------------------------------------- storage


def _save(org_id: str, note: dict[str, Any], seen: str | None = None) -> bool:
    """Store the note — new, or unchanged since its ``updatedAt`` was ``seen`` — then its entry on the
    timelines; False if it was not."""
    stored = store.create(org_id, note) if seen is None else store.replace_if_unchanged(org_id, note, seen)
    if not stored:
        return False
    timeline.record(
        org_id,
        note["customerId"],
        note["invoiceIds"],
        "note",
        note["createdAt"],
        note["id"],
        {k: v for k, v in note.items() if k not in ("id", "customerId", "invoiceIds", "createdAt")},
    )
    return True


def _visible_note(principal: Principal, note_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    note = store.get_note(principal.organization_id, note_id)
    if note is None:
        raise NotFound("note not found")
    return note, customer_item(principal, note["customerId"])


def _may_change(principal: Principal, note: dict[str, Any]) -> None:
    if not principal.is_admin and note["author"] != principal.principal_id:
        raise Forbidden("only the author or an admin can change this note")


# ---------------------------------------------------------------- rules


def with_mention_tokens(body: str, people: dict[str, str]) -> str:
    """``body`` with each ``@<name>`` typed for one of ``people`` (user id -> name) as the ``@usr_…``
    token a note stores (shown as ``@<name>`` again): the longest names first, a name only where it
    ends at a word's end, so ``@Ann`` never takes ``@Anna``'s place."""
    for user_id, name in sorted(people.items(), key=lambda p: -len(p[1])):
        if name:
            body = re.sub(rf"@{re.escape(name)}(?!\w)", f"@{user_id}", body, flags=re.IGNORECASE)
    return body


def readable(body: str, names: dict[str, str]) -> str:
    """``body`` with each stored ``@usr_…`` token shown as ``@<name>`` (as the timeline shows it): what a
    notification of the note says."""
    return MENTION.sub(lambda token: f"@{names.get(token.group(1), token.group(1))}", body)


def mentions(org_id: str, body: str, customer: dict[str, Any], already: list[str] | None = None) -> list[str]:
    """The users a body mentions (``@usr_…``); each new one (not in ``already``) must see the customer
    (else a 422 on ``body``)."""
    found = list(dict.fromkeys(MENTION.findall(body)))
    new = [u for u in found if u not in (already or [])]
    check_mentions(new, {user_id: user_store.get_user(org_id, user_id) for user_id in new}, customer)
    return found


def check_mentions(found: list[str], users: dict[str, dict[str, Any] | None], customer: dict[str, Any]) -> None:
    """Only people of the organization who see the customer can be mentioned: a mention tells them
    the customer's name and the note's words. Anyone else is refused, named, on ``body``."""
    unknown = [u for u in found if users.get(u) is None]
    if unknown:
        raise Invalid("the note mentions unknown users", {"body": f"no such user: @{', @'.join(unknown)}"})
    blind = [u for u in found if not person_can_see(users[u] or {}, customer)]
    if blind:
        raise Invalid(
            "the note mentions people who cannot see this customer",
            {"body": f"cannot see this customer, so cannot be mentioned: @{', @'.join(blind)}"},
        )


def check_files(existing: list[dict[str, Any]], added: list[FileDeclaration]) -> None:
    """At most 25 files and 15 MB together per note, refused with the limit named."""
    if len(existing) + len(added) > MAX_FILES:
        raise Invalid(
            f"a note holds at most {MAX_FILES} files",
            {"attachments": f"{len(existing) + len(added)} files: at most {MAX_FILES} per note"},
        )
    total = sum(int(a["size"]) for a in existing) + sum(a.size for a in added)
    if total > MAX_TOTAL_BYTES:
        raise PayloadTooLarge(
            "a note's files are at most 15 MB together",
            {"attachments": f"{total} bytes: at most {MAX_TOTAL_BYTES} bytes (15 MB) together"},
        )


def _upload(org_id: str, note_id: str, declared: FileDeclaration) -> tuple[dict[str, Any], Upload]:
    attachment_id = new_id("att")
    key = files.note_file_key(org_id, note_id, attachment_id, declared.filename)
    url, form = files.upload_form(key, declared.content_type, declared.size, UPLOAD_SECONDS)
    attachment = {
        "id": attachment_id,
        "name": declared.filename,
        "contentType": declared.content_type,
        "size": declared.size,
        "key": key,
    }
    upload = Upload(
        attachment_id=attachment_id,
        url=url,
        fields=form,
        expires_at=clock.now() + timedelta(seconds=UPLOAD_SECONDS),
        max_bytes=declared.size,
    )
    return attachment, upload


def _put(attachment: dict[str, Any], data: bytes) -> None:
    """Store a file the web app received itself (its form without JavaScript), in place of a presigned POST."""
    if not 1 <= len(data) <= int(attachment["size"]):
        raise Invalid(
            "a file is not the size declared", {"attachments": f"{attachment['name']}: not its declared size"}
        )
    files.put(attachment["key"], data, attachment["contentType"])


def upload_origins() -> tuple[str, ...]:
    """Where a browser posts a note's files (the presigned POSTs' origin), for the web app's CSP
    ``connect-src``: the custom endpoint when there is one (moto, locally), else the bucket on S3."""
    return files.upload_origins()


def _shown(note: dict[str, Any], uploads: list[Upload] | None = None) -> dict[str, Any]:
    shown = timeline.with_links(note)
    if uploads is not None:
        shown["uploads"] = [u.model_dump(mode="json", by_alias=True) for u in uploads]
    return shown


# ---------------------------------------------------------------- operations


def create(
    principal: Principal, customer_id: str, fields: NoteFields, contents: list[bytes] | None = None
) -> dict[str, Any]:
    """Write a note; its declared files come back as presigned uploads, or, with ``contents`` (the
    files themselves, in order), are stored before the note is."""
    org_id = principal.organization_id
    customer = customer_item(principal, customer_id)
    for index, invoice_id in enumerate(fields.invoice_ids):
        invoice = ledger_store.get_invoice(org_id, invoice_id)
        if invoice is None or invoice["customerId"] != customer["id"]:
            raise Invalid(
                "unknown invoice for this customer", {f"invoiceIds.{index}": "no such invoice of this customer"}
            )
    if fields.action_id:
        action = action_store.get_action(org_id, fields.action_id)
        if action is None or action["customerId"] != customer["id"]:
            raise Invalid("unknown action for this customer", {"actionId": "no such action of this customer"})
    check_files([], fields.attachments)
    mentioned = mentions(org_id, fields.body, customer)
    now = clock.now().isoformat()
    note_id = new_id("note")
    files = [_upload(org_id, note_id, declared) for declared in fields.attachments]
    for (attachment, _), data in zip(files, contents or [], strict=contents is not None):
        _put(attachment, data)
    note = {
        "id": note_id,
        "customerId": customer["id"],
        "invoiceIds": list(dict.fromkeys(fields.invoice_ids)),
        "actionId": fields.action_id,
        "body": fields.body,
        "mentions": mentioned,
        "pinned": fields.pinned,
        "author": principal.principal_id,
        **author_of(principal),  # owner: the user, or the API key (with its label as ownerName)
        "createdAt": now,
        "updatedAt": now,
        "attachments": [attachment for attachment, _ in files],
    }
    _save(org_id, note)
    _tell(org_id, principal, customer, note, mentioned)
    return _shown(note, None if contents is not None else [upload for _, upload in files])


def _tell(
    org_id: str, principal: Principal, customer: dict[str, Any], note: dict[str, Any], mentioned: list[str]
) -> None:
    if not [u for u in mentioned if u != principal.user_id]:
        return
    who = display_name(principal)
    names = {u: (user_store.get_user(org_id, u) or {}).get("name") or u for u in mentioned}
    body = readable(note["body"], names)
    excerpt = body if len(body) <= 140 else body[:137] + "…"
    notify(
        org_id,
        [u for u in mentioned if u != principal.user_id],
        "mention",
        f"{who} mentioned you on {customer['name']}: {excerpt}",
        note["id"],
        {"customerId": customer["id"], "noteId": note["id"]},
    )


def get_note(principal: Principal, note_id: str) -> dict[str, Any]:
    note, _ = _visible_note(principal, note_id)
    return _shown(note)


def update(principal: Principal, note_id: str, patch: NotePatch) -> dict[str, Any]:
    """Change the body (author or admin) or pin/unpin (anyone who sees the customer)."""
    org_id = principal.organization_id
    note, customer = _visible_note(principal, note_id)
    changes = patch.model_dump(exclude_unset=True, exclude_none=True)
    if "body" in changes:
        _may_change(principal, note)
    before = note.get("mentions", [])
    mentioned = mentions(org_id, changes["body"], customer, before) if "body" in changes else before
    after = {**note, **changes, "mentions": mentioned, "updatedAt": clock.now().isoformat()}
    if not _save(org_id, after, seen=note["updatedAt"]):
        raise Conflict("the note changed meanwhile: reload it", {"updatedAt": "changed meanwhile"})
    _tell(org_id, principal, customer, after, [u for u in mentioned if u not in note.get("mentions", [])])
    return _shown(after)


def delete(principal: Principal, note_id: str) -> None:
    org_id = principal.organization_id
    note, _ = _visible_note(principal, note_id)
    _may_change(principal, note)
    store.delete_note(org_id, note_id)
    timeline.remove(org_id, note["customerId"], note["invoiceIds"], note["createdAt"], note_id)
    for attachment in note.get("attachments", []):
        files.delete(attachment["key"])


def add_attachment(principal: Principal, note_id: str, declared: FileDeclaration) -> dict[str, Any]:
    """Declare one more file: the answer holds the presigned POST to upload it."""
    attachment, upload = add_attachments(principal, note_id, [declared])[0]
    return {
        "attachment": {k: v for k, v in attachment.items() if k != "key"},
        "upload": upload.model_dump(mode="json", by_alias=True),
    }


def add_attachments(
    principal: Principal, note_id: str, declared: list[FileDeclaration], contents: list[bytes] | None = None
) -> list[tuple[dict[str, Any], Upload]]:
    """Add files to a note, all within its limits or none: each with its presigned POST, or stored
    here from ``contents`` (the files themselves, in order)."""
    org_id = principal.organization_id
    note, _ = _visible_note(principal, note_id)
    check_files(note.get("attachments", []), declared)
    files = [_upload(org_id, note_id, one) for one in declared]
    for (attachment, _), data in zip(files, contents or [], strict=contents is not None):
        _put(attachment, data)
    added = [attachment for attachment, _ in files]
    after = {**note, "attachments": [*note.get("attachments", []), *added], "updatedAt": clock.now().isoformat()}
    if not _save(org_id, after, seen=note["updatedAt"]):
        raise Conflict("the note changed meanwhile: try again", {"attachments": "changed meanwhile"})
    return files


def notes_of(principal: Principal, customer_id: str, *, pinned_only: bool = False) -> list[dict[str, Any]]:
    """The customer's notes: pinned first, newest first."""
    customer = customer_item(principal, customer_id)
    return pinned_notes(principal.organization_id, customer["id"]) + (
        [] if pinned_only else _listed(principal.organization_id, customer["id"], pinned=False)
    )


def pinned_notes(org_id: str, customer_id: str) -> list[dict[str, Any]]:
    return _listed(org_id, customer_id, pinned=True)


def _listed(org_id: str, customer_id: str, *, pinned: bool) -> list[dict[str, Any]]:
    return shown_newest_first(store.notes_of(org_id, customer_id, pinned=pinned))


def shown_newest_first(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Notes as read from the customer's partition (oldest first), as shown: newest first, files as links."""
    return [_shown(note) for note in reversed(stored)]
