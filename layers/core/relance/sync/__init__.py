"""Connectors to the source systems an organization bills from (docs/integrations.md).

Every connector is one module behind :class:`Connector`: it lists changes since a cursor (a full
backfill when there is none), maps each source record to ``relance.domain.sync``'s models, checks
and reads the source's webhooks, and writes back what Relance recorded where the source can hold
it. It knows nothing of DynamoDB: ``relance.services.integrations`` applies what it returns through
the same services as the API, by external id.

A connector module defines ``Settings`` (a ``RelanceModel`` of the plain values shown in the app,
stored with the connection), ``Secret`` (a ``RelanceModel`` of the API keys and OAuth tokens: one JSON
object in Secrets Manager, never shown again) and ``connect(settings, secret) -> Connector``. Modules
load lazily (:func:`connector`), so a function that syncs one source never imports the others' clients.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Protocol

from relance.domain.base import RelanceModel
from relance.domain.sync import Batch, CustomerLink, IntegrationName, PaymentWriteBack

_MODULES: dict[IntegrationName, str] = {
    "stripe": "relance.sync.stripe_billing",
    "quickbooks": "relance.sync.quickbooks",
    "salesforce": "relance.sync.salesforce",
}


class SourceUnavailable(Exception):
    """The source did not answer (network, 5xx, still rate-limited after the client's retries): the run
    stops where it is, keeps its cursor, and the next run resumes from there."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceRefused(Exception):
    """The source refused the connection's credentials or settings (401, 403, a wrong realm): the
    message says what to fix, and the connection shows it until the settings change."""


class WebhookRefused(Exception):
    """A webhook whose signature (or verifier token) does not check out: answered 400, nothing applied."""


class Connector(Protocol):
    """What Relance asks of a source system."""

    def changes(self, cursor: str | None) -> Batch:
        """The next page of changes after ``cursor`` (``None``: a full backfill from the start)."""

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> Batch:
        """The changes one webhook delivery announces, after checking its signature
        (``WebhookRefused`` when it does not check out); the batch's cursor is ``None``."""

    def write_back_payment(self, payment: PaymentWriteBack) -> str | None:
        """Record a Relance payment at the source; its id there, or ``None`` when the source keeps no
        payments (Salesforce)."""

    def write_back_link(self, link: CustomerLink) -> bool:
        """Write the customer's Relance page into the source's account; False when the source has no
        such field (Stripe, QuickBooks)."""

    def rotated_secret(self) -> dict[str, str] | None:
        """The secret as it must be stored after this connector's calls (an OAuth refresh token the
        source rotated), or ``None`` when unchanged."""


def _module(name: IntegrationName) -> Any:
    return importlib.import_module(_MODULES[name])


def settings_model(name: IntegrationName) -> type[RelanceModel]:
    """The connection settings ``name`` takes (validated on PUT, a 422 naming the field)."""
    model: type[RelanceModel] = _module(name).Settings
    return model


def secret_model(name: IntegrationName) -> type[RelanceModel]:
    """The secret values ``name`` takes (written to Secrets Manager, never answered)."""
    model: type[RelanceModel] = _module(name).Secret
    return model


def connector(name: IntegrationName, settings: Mapping[str, Any], secret: Mapping[str, str]) -> Connector:
    """The connector for ``name``, its module imported on first use."""
    built: Connector = _module(name).connect(settings, secret)
    return built
