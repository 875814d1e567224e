"""Connections to source systems and their runs, as the API and the web app show them; and the pure rules
of sync: what changed, which fields a synced record keeps read-only (docs/integrations.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

from pydantic import AwareDatetime, Field

from relance.domain.base import Record, RelanceModel
from relance.domain.sync import INTEGRATIONS, IntegrationName, RecordKind

LABELS: dict[str, str] = {
    "stripe": "Stripe Billing",
    "quickbooks": "QuickBooks Online",
    "salesforce": "Salesforce",
}
ConnectionStatus = Literal["connected", "failing", "disabled"]
RunOutcome = Literal["done", "continued", "unavailable", "refused", "failed", "busy", "disabled"]
"""How a run ended: every page applied (``done``); stopped after its time budget, another run queued to go
on from the cursor (``continued``); the source did not answer, the next run resumes from the cursor
(``unavailable``); the source refused the credentials or settings (``refused``); Relance failed and the
run is retried from the cursor (``failed``); another run of the
connection holds the lease (``busy``); the connection is not enabled (``disabled``)."""
Outcome = Literal["created", "updated", "voided", "unchanged"]

SYNCED_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("externalId", "name", "currency"),
    "contact": ("email", "firstName", "lastName", "phone", "jobTitle"),
    "invoice": ("externalId", "customerId", "number", "currency", "amount", "issuedAt", "dueAt", "pdfUrl"),
}
"""The fields a source may set on each kind of record it manages; a record keeps the list of those its
source actually gave (``syncedFields``): those are read-only in Relance, the others stay editable."""


class KindCounts(RelanceModel):
    """What a run did with the records of one kind."""

    created: int = 0
    updated: int = 0
    voided: int = 0
    unchanged: int = 0
    errors: int = 0

    def add(self, other: KindCounts) -> KindCounts:
        return KindCounts(**{k: getattr(self, k) + getattr(other, k) for k in KindCounts.model_fields})


Counts = dict[RecordKind, KindCounts]


def add_counts(total: Mapping[RecordKind, KindCounts], more: Mapping[RecordKind, KindCounts]) -> Counts:
    """The counts of two pages (or runs) together, kind by kind."""
    merged = dict(total)
    for kind, counts in more.items():
        merged[kind] = merged[kind].add(counts) if kind in merged else counts
    return merged


class SyncRun(Record):
    """One run of a connection: how it ended and what it did."""

    integration: IntegrationName
    outcome: RunOutcome
    message: str | None = None
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    counts: dict[RecordKind, KindCounts] = Field(default_factory=dict)
    write_backs: int = Field(default=0, description="payments written back to the source in this run")


class Connection(Record):
    """A connection to a source system, as an administrator sees it: never its secret values."""

    name: IntegrationName
    label: str
    enabled: bool = False
    status: ConnectionStatus = "disabled"
    message: str | None = Field(default=None, description="why the last run stopped or failed")
    settings: dict[str, Any] = Field(default_factory=dict)
    secret_fields_set: list[str] = Field(
        default_factory=list, description="which secret fields hold a value (the values are never answered)"
    )
    last_run: SyncRun | None = None
    errors: int = Field(default=0, description="source records waiting for review (GET …/errors)")
    webhook_url: str = Field(description="where the source sends its webhooks (no sign-in: the source signs them)")


class ConnectionFields(RelanceModel):
    """A change to a connection: only what is sent changes; a secret field sent replaces its value."""

    enabled: bool | None = None
    settings: dict[str, Any] | None = Field(default=None, description="the source's settings (docs/integrations.md)")
    secret: dict[str, str] | None = Field(
        default=None, description="API keys and tokens: stored in Secrets Manager, never answered"
    )


class SyncError(Record):
    """A source record that could not be applied: kept until a later run applies it."""

    kind: RecordKind
    external_id: str
    message: str
    at: AwareDatetime


class FormField(RelanceModel):
    """One field of a connector's settings or secret, as the settings page asks for it."""

    name: str = Field(description="as on the wire (camelCase)")
    label: str
    kind: Literal["text", "password", "checkbox", "select"] = "text"
    options: list[str] = Field(default_factory=list)
    required: bool = False
    help: str | None = None


def form_fields(model: type[RelanceModel], secret: bool) -> list[FormField]:
    """The fields of a connector's ``Settings`` (or, ``secret``, its ``Secret``) model, in order."""
    fields = []
    for name, info in model.model_fields.items():
        options = [str(o) for o in get_args(info.annotation) if isinstance(o, str)]
        if get_origin(info.annotation) is not Literal:
            options = []
        kind = "password" if secret else "checkbox" if info.annotation is bool else "select" if options else "text"
        fields.append(
            FormField(
                name=info.alias or name,
                label=info.title or name.replace("_", " ").capitalize(),
                kind=kind,
                options=options,
                required=info.is_required(),
                help=info.description,
            )
        )
    return fields


class StartedSync(RelanceModel):
    integration: IntegrationName
    queued: bool = True


def is_integration(name: str) -> bool:
    return name in INTEGRATIONS


def changed(before: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` whose value differs from what is stored (a second delivery: none)."""
    return {k: v for k, v in wanted.items() if before.get(k) != v}


def refused_change(item: Mapping[str, Any], changes: Mapping[str, Any]) -> str | None:
    """The first field of ``changes`` that would change a field the record's source keeps, else None."""
    if not item.get("syncedFrom"):
        return None
    synced = set(item.get("syncedFields") or ())
    return next((k for k in changes if k in synced and changes[k] != item.get(k)), None)


def label_of(name: str) -> str:
    """The source's name on screen (``Stripe Billing``), for a record's ``syncedFrom``."""
    return LABELS.get(name, name)
