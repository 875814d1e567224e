"""Connections to the source systems an organization bills from: their settings and secret, their runs
(every 15 minutes, "Sync now", webhooks), the records they could not apply, and the payments Relance
writes back to them (docs/integrations.md).

A run holds the connection's lease (no two runs of one connection overlap), sends the pending write-backs
first, then asks the connector for pages of changes from the saved cursor and applies each one
(``relance.services.sync_apply``), saving the cursor and the counts after each page: a run that stops —
the source unavailable, the function timing out — resumes from the last page applied, and a page applied
twice changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from relance import clock, queues, secrets, sync
from relance.domain.base import RelanceModel
from relance.domain.integrations import (
    LABELS,
    Connection,
    ConnectionFields,
    FormField,
    StartedSync,
    SyncError,
    SyncRun,
    add_counts,
    form_fields,
)
from relance.domain.ledger import Allocation
from relance.domain.organizations import Principal
from relance.domain.sync import INTEGRATIONS, IntegrationName, PaymentWriteBack
from relance.errors import Conflict, Invalid, NotFound, RelanceError, validation_fields
from relance.ids import is_id, new_id
from relance.observability import logger
from relance.services.access import require_admin
from relance.services.pagination import paginate
from relance.settings import get_settings
from relance.storage import customers as customer_store
from relance.storage import integrations as store
from relance.storage import ledger as ledger_store

if TYPE_CHECKING:
    from relance.services.sync_apply import Applier, BatchResult

LEASE = timedelta(minutes=30)
"""How long a run holds its connection: longer than the worker's timeout (15 minutes), so a run that
died is taken over by the next one after it, never while it may still be writing."""
RUN_BUDGET_SECONDS = 600.0
"""A run stops asking for pages after this long and queues the next run to go on from its cursor."""


class WebhookNotAccepted(RelanceError):
    """The webhook's signature (or verifier token) does not check out: nothing is applied."""

    status = 400
    code = "bad_request"


class SourceBusy(RelanceError):
    """The source did not answer while a webhook was read: the source delivers it again later."""

    status = 503
    code = "unavailable"


# ---------------------------------------------------------------- where things are


def secret_name(org_id: str, name: str) -> str:
    """The Secrets Manager secret of one connection (one per organization and source)."""
    return f"relance/{get_settings().stage}/integrations/{org_id}/{name}"


def webhook_url(org_id: str, name: str) -> str:
    """Where the source sends its webhooks for this organization (public: the source signs them)."""
    return f"{get_settings().public_base_url}/v1/integrations/{name}/webhooks/{org_id}"


def integration_name(name: str) -> IntegrationName:
    """``name`` if it is a source Relance syncs from, else 404."""
    if name not in INTEGRATIONS:  # narrows name to IntegrationName
        raise NotFound("no such integration")
    return name


# ---------------------------------------------------------------- connections (admins)


def to_connection(org_id: str, name: IntegrationName, item: Mapping[str, Any] | None) -> Connection:
    item = item or {}
    last_run = item.get("lastRun")
    return Connection(
        name=name,
        label=LABELS[name],
        enabled=bool(item.get("enabled")),
        status=item.get("status") or "disabled",
        message=item.get("message"),
        settings=item.get("settings") or {},
        secret_fields_set=list(item.get("secretFields") or []),
        last_run=SyncRun.model_validate(last_run) if last_run else None,
        errors=int(item.get("errorCount") or 0),
        webhook_url=webhook_url(org_id, name),
    )


def list_connections(principal: Principal) -> list[Connection]:
    """Every source Relance syncs from, with this organization's connection to it (admin)."""
    require_admin(principal)
    org_id = principal.organization_id
    stored = {str(i["name"]): i for i in store.connections_of(org_id)}
    return [to_connection(org_id, name, stored.get(name)) for name in INTEGRATIONS]


def get_connection(principal: Principal, name: str) -> Connection:
    require_admin(principal)
    integration = integration_name(name)
    return to_connection(principal.organization_id, integration, store.get_connection(principal.organization_id, name))


def _validated(what: str, model: type[Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked by the connector's model, as stored (camelCase); a 422 naming ``what.<field>``."""
    try:
        valid = model.model_validate(dict(values))
    except ValidationError as error:
        # a rule across fields (one way in or another) names the whole object
        fields = {what if k == "body" else f"{what}.{k}": v for k, v in validation_fields(error.errors()).items()}
        raise Invalid(f"invalid {what}: {', '.join(fields)}", fields) from error
    dumped: dict[str, Any] = valid.model_dump(by_alias=True, mode="json", exclude_none=True)
    return dumped


def put_connection(principal: Principal, name: str, fields: ConnectionFields) -> Connection:
    """Connect, change or disable a source (admin). Only what is sent changes; settings are checked by
    the connector's ``Settings`` and the secret, with the values already stored, by its ``Secret``
    (422 naming ``settings.<field>`` or ``secret.<field>``). The secret goes to Secrets Manager first,
    so a connection never names a secret that was not stored. Enabling, or changing what a connection
    reads, queues a run; changed settings start again from a full backfill (another account, another
    cursor)."""
    require_admin(principal)
    integration = integration_name(name)
    org_id = principal.organization_id
    item = store.get_connection(org_id, integration, consistent=True) or {}
    enabled = bool(item.get("enabled")) if fields.enabled is None else fields.enabled
    changes: dict[str, Any] = {}
    if fields.settings is not None or (enabled and "settings" not in item):
        settings = _validated("settings", sync.settings_model(integration), fields.settings or {})
        if settings != item.get("settings"):
            changes.update(settings=settings, cursor=None)
    if fields.secret is not None or (enabled and not item.get("secretFields")):
        stored = secrets.read_json(secret_name(org_id, integration)) or {}
        sent = {k: v for k, v in (fields.secret or {}).items() if v != ""}  # an empty field keeps its value
        checked = _validated("secret", sync.secret_model(integration), {**stored, **sent})
        secret = {k: str(v) for k, v in checked.items()}
        if secret != stored:
            secrets.write_json(secret_name(org_id, integration), secret, f"Relance: {LABELS[integration]} connection")
        changes["secretFields"] = sorted(k for k, v in secret.items() if v)
    turned_on = enabled and not item.get("enabled")
    if turned_on or (enabled and ("settings" in changes or fields.secret)):
        changes.update(status="connected", message=None)
    if not enabled:
        changes.update(status="disabled")
    store.save_connection(org_id, integration, {**changes, "enabled": enabled, "updatedAt": clock.now().isoformat()})
    if enabled and (turned_on or "settings" in changes or fields.secret):
        queue_run(org_id, integration)
    return get_connection(principal, integration)


def start_sync(principal: Principal, name: str) -> StartedSync:
    """Queue a run of the connection now ("Sync now"); 409 when it is not enabled."""
    require_admin(principal)
    integration = integration_name(name)
    item = store.get_connection(principal.organization_id, integration) or {}
    if not item.get("enabled"):
        raise Conflict(f"{LABELS[integration]} is not connected: connect it first", {"enabled": "false"})
    return StartedSync(integration=integration, queued=queue_run(principal.organization_id, integration))


def list_errors(
    principal: Principal, name: str, limit: int = 50, cursor: str | None = None
) -> tuple[list[SyncError], str | None]:
    """The source records the connection could not apply, newest first (admin)."""
    require_admin(principal)
    integration = integration_name(name)
    rows = [SyncError.model_validate(e) for e in store.errors_of(principal.organization_id, integration)]
    return paginate(
        rows, lambda e: (e.at.isoformat(), e.kind, e.external_id), limit=limit, cursor=cursor, descending=True
    )


def fields_of(name: str) -> tuple[list[FormField], list[FormField]]:
    """What the settings page asks for a source: its connector's settings, then its secret's fields."""
    integration = integration_name(name)
    return (
        form_fields(sync.settings_model(integration), secret=False),
        form_fields(sync.secret_model(integration), secret=True),
    )


# ---------------------------------------------------------------- runs


class RunRequest(RelanceModel):
    """What the sync worker is invoked with: a run of one organization's connection."""

    organization_id: str
    integration: str


def queue_run(org_id: str, name: IntegrationName) -> bool:
    """Queue a run of the connection (an asynchronous invocation of the sync worker); False when this
    function knows no worker."""
    worker = get_settings().sync_worker_function
    if not worker:
        logger.warning("no sync worker: run not queued", integration=name)
        return False
    refused = queues.invoke_all(worker, [_payload(org_id, name)])
    return not refused


def queue_scheduled_runs(worker: str) -> int:
    """The schedule's fan-out: a run of each enabled connection (Query GSI1 ``INTEGRATIONS``), an
    asynchronous invocation of the function named ``worker`` each; how many."""
    payloads = [_payload(org_id, name) for org_id, name in store.enabled_connections()]
    refused = queues.invoke_all(worker, payloads)
    if refused:
        logger.error("sync runs not queued", runs=refused)
    return len(payloads)


def _payload(org_id: str, name: str) -> dict[str, Any]:
    return RunRequest(organization_id=org_id, integration=name).model_dump(by_alias=True)


def run_message(body: Mapping[str, Any]) -> SyncRun:
    """The sync worker's invocation: one run of the connection it names (a ValidationError naming the
    field when it names none: Lambda retries it, then sends it to the dead-letter queue)."""
    request = RunRequest.model_validate(body)
    return run_sync(request.organization_id, integration_name(request.integration))


def run_sync(org_id: str, name: IntegrationName, budget_seconds: float = RUN_BUDGET_SECONDS) -> SyncRun:
    """One run of a connection: pending write-backs, then pages of changes until the last (or the budget),
    the cursor and counts saved after each page. Another run holding the lease: ``busy``, nothing done."""
    started = clock.now()
    item = store.get_connection(org_id, name, consistent=True)
    if not item or not item.get("enabled"):
        return SyncRun(integration=name, outcome="disabled", started_at=started, finished_at=started)
    lease = new_id("run")
    if not store.take_lease(org_id, name, lease, (started + LEASE).isoformat(), started.isoformat()):
        logger.info("sync run skipped: another run holds the connection", integration=name)
        return SyncRun(integration=name, outcome="busy", started_at=started, finished_at=started)
    try:
        return _Run(org_id, name, lease, SyncRun(integration=name, outcome="done", started_at=started)).go(
            item, budget_seconds
        )
    finally:
        store.release_lease(org_id, name, lease)


class _Run:
    """The state of one run while it goes: its counts, and what it saves after each step."""

    def __init__(self, org_id: str, name: IntegrationName, lease: str, run: SyncRun) -> None:
        self.org_id, self.name, self.lease, self.run = org_id, name, lease, run
        self.errors: set[tuple[str, str]] = set()

    def go(self, item: Mapping[str, Any], budget_seconds: float) -> SyncRun:
        secret = secrets.read_json(secret_name(self.org_id, self.name)) or {}
        connector: sync.Connector | None = None
        status: dict[str, Any] = {}
        try:
            connector = sync.connector(self.name, item.get("settings") or {}, secret)
            self.run.write_backs = write_back(self.org_id, self.name, connector)
            self.errors = {(str(e["kind"]), str(e["externalId"])) for e in store.errors_of(self.org_id, self.name)}
            self.pages(connector, item.get("cursor"), time.monotonic() + budget_seconds)
            status = {"status": "connected", "message": None}
        except sync.SourceUnavailable as error:  # the next run resumes from the cursor
            self.run.outcome, self.run.message = "unavailable", str(error)
            status = {"status": "connected", "message": str(error)}
        except sync.SourceRefused as error:
            self.run.outcome, self.run.message = "refused", str(error)
            status = {"status": "failing", "message": str(error)}
        except Exception:
            self.run.outcome, self.run.message = "failed", "Relance could not finish the run: it is tried again"
            raise
        finally:
            if connector is not None:
                keep_rotated_secret(self.org_id, self.name, connector, secret)
            self.run.finished_at = clock.now()
            self.save(status)
        return self.run

    def pages(self, connector: sync.Connector, cursor: str | None, deadline: float) -> None:
        applier = _applier(self.org_id, self.name, connector)
        while True:
            batch = connector.changes(cursor)
            result = applier.apply(batch)
            self.errors = keep_errors(self.org_id, self.name, result, self.errors)
            self.run.counts = add_counts(self.run.counts, result.counts)
            cursor = batch.cursor if batch.cursor is not None else cursor
            self.save({"cursor": cursor})
            if not batch.more:
                return
            if time.monotonic() > deadline:
                self.run.outcome = "continued"
                queue_run(self.org_id, self.name)
                return

    def save(self, fields: dict[str, Any]) -> None:
        last_run = self.run.model_dump(by_alias=True, mode="json")
        saved = store.save_progress(
            self.org_id, self.name, self.lease, {**fields, "lastRun": last_run, "errorCount": len(self.errors)}
        )
        if not saved:
            logger.error("sync run lost its lease", integration=self.name)


def _applier(org_id: str, name: IntegrationName, connector: sync.Connector) -> Applier:
    """What applies the source's records through the services (relance.services.sync_apply), imported by
    the runs and webhooks that need it: the portal and the Stripe webhook record write-backs through this
    module, and would otherwise load every service that applies records (dunning's included) at their
    cold start."""
    from relance.services.sync_apply import Applier

    return Applier(org_id, name, connector)


def keep_errors(org_id: str, name: str, result: BatchResult, known: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Store the batch's refused records (one item per record: a re-run replaces, never duplicates) and
    forget those of records it applied; the records with an error now."""
    now = clock.now().isoformat()
    refused = {(e.kind, e.external_id): e for e in result.errors}
    if refused:
        store.put_errors(org_id, name, [{**e.model_dump(by_alias=True), "at": now} for e in refused.values()])
    cleared = [r for r in result.applied if r in known and r not in refused]
    if cleared:
        store.clear_errors(org_id, name, cleared)
    return (known - set(cleared)) | set(refused)


def keep_rotated_secret(
    org_id: str, name: IntegrationName, connector: sync.Connector, secret: Mapping[str, str]
) -> None:
    """The secret as the connector left it (an OAuth refresh token the source rotated), stored at once."""
    rotated = connector.rotated_secret()
    if rotated and {**secret, **rotated} != dict(secret):
        secrets.write_json(secret_name(org_id, name), {**secret, **rotated}, f"Relance: {LABELS[name]} connection")


# ---------------------------------------------------------------- webhooks


def receive_webhook(name: str, org_id: str, body: bytes, headers: Mapping[str, str]) -> int:
    """A webhook of ``name`` for the organization in its URL: checked by the connector with that
    organization's secret (400 when it does not check out), then applied; how many records were applied.
    An unknown organization or a connection not enabled is a 404, as if the URL did not exist."""
    integration = integration_name(name)
    item = store.get_connection(org_id, integration) if is_id(org_id, "org") else None
    if not item or not item.get("enabled"):
        raise NotFound("no such integration")
    secret = secrets.read_json(secret_name(org_id, integration)) or {}
    connector = sync.connector(integration, item.get("settings") or {}, secret)
    try:
        batch = connector.webhook(body, headers)
        result = _applier(org_id, integration, connector).apply(batch)
    except sync.WebhookRefused as error:
        raise WebhookNotAccepted(f"webhook refused: {error}") from error
    except sync.SourceUnavailable as error:
        raise SourceBusy(f"{LABELS[integration]} did not answer: deliver the webhook again later") from error
    finally:
        keep_rotated_secret(org_id, integration, connector, secret)
    known = {(str(e["kind"]), str(e["externalId"])) for e in store.errors_of(org_id, integration)}
    errors = keep_errors(org_id, integration, result, known)
    if len(errors) != int(item.get("errorCount") or 0):
        store.save_connection(org_id, integration, {"errorCount": len(errors)})
    return len(result.applied)


# ---------------------------------------------------------------- write-back


def record_write_backs(org_id: str, payment_id: str, allocations: list[Allocation], received_at: str) -> int:
    """A portal payment was recorded: each invoice it settles that a source manages gets a pending
    write-back (put once: recording the same payment again adds none), and a run of that source is
    queued to write it; how many were added."""
    added: dict[IntegrationName, int] = {}
    for allocation in allocations:
        invoice = ledger_store.get_invoice(org_id, allocation.invoice_id)
        source = (invoice or {}).get("syncedFrom")
        if not invoice or source not in INTEGRATIONS or not invoice.get("externalId"):
            continue
        customer = customer_store.get_customer(org_id, str(invoice["customerId"])) or {}
        pending = {
            "paymentId": payment_id,
            "invoiceId": allocation.invoice_id,
            "customerExternalId": customer.get("externalId"),
            "invoiceExternalId": invoice["externalId"],
            "currency": invoice["currency"],
            "amount": allocation.amount,
            "receivedAt": received_at,
            "createdAt": clock.now().isoformat(),
        }
        if store.add_write_back(org_id, source, pending):
            added[source] = added.get(source, 0) + 1
    for source in added:
        queue_run(org_id, source)
    return sum(added.values())


def write_back(org_id: str, name: IntegrationName, connector: sync.Connector) -> int:
    """Send the pending write-backs to the source, each once; how many the source recorded (a source
    that keeps no payments answers None: the write-back is closed as skipped). One the source refuses
    stays pending, kept for review; a source that does not answer stops the run."""
    written = 0
    for pending in store.pending_write_backs(org_id, name):
        current = store.get_write_back(org_id, name, str(pending["paymentId"]), str(pending["invoiceId"]))
        if not current or current.get("status") != "pending":  # the index lags a write-back just marked
            continue
        payment = PaymentWriteBack(
            payment_id=current["paymentId"],
            customer_external_id=current.get("customerExternalId") or "",
            invoice_external_id=current["invoiceExternalId"],
            currency=current["currency"],
            amount=int(current["amount"]),
            received_at=current["receivedAt"],
            reference=current["paymentId"],
        )
        if not store.mark_sending(org_id, name, current, clock.now().isoformat()):
            continue
        try:
            source_id = connector.write_back_payment(payment)
        except sync.SourceUnavailable:
            raise  # the run stops; the write-back stays pending (and in flight: the next run sends it again first)
        except Exception as error:  # this payment only: kept for review and pending, the others go on
            store.clear_sending(org_id, name, current)
            logger.exception("payment not written back", integration=name, payment_id=payment.payment_id)
            why = str(error) if isinstance(error, sync.SourceRefused) else type(error).__name__
            message = f"not written back to {LABELS[name]}: {why}"
            refused = {"kind": "payment", "externalId": payment.payment_id, "message": message}
            store.put_errors(org_id, name, [{**refused, "at": clock.now().isoformat()}])
            continue
        if store.mark_written(org_id, name, current, source_id, "payment", clock.now().isoformat()) and source_id:
            written += 1
        store.clear_errors(org_id, name, [("payment", payment.payment_id)])  # refused by an earlier run
    return written
