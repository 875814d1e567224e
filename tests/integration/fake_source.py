"""A source system for the sync tests: a connector module (``Settings``, ``Secret``, ``connect``) whose
changes, webhooks and write-backs are whatever the test puts in ``SOURCE``.

A test registers it in place of a real connector (``use_fake_source``), fills ``SOURCE.pages`` with
batches (one per cursor: ``None`` is the backfill's first page) and reads back what Relance asked of it.
Webhooks are signed with HMAC-SHA256 of the body under the connection's ``webhookSecret``, sent in the
``X-Fake-Signature`` header, as real sources sign theirs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from relance import sync
from relance.domain.base import RelanceModel
from relance.domain.sync import INTEGRATIONS, Batch, CustomerLink, PaymentWriteBack

SIGNATURE = "X-Fake-Signature"


class Settings(RelanceModel):
    account: str
    region: str = "eu"


class Secret(RelanceModel):
    api_key: str
    webhook_secret: str = "whsec_fake"
    refresh_token: str | None = None


@dataclass
class Source:
    """What the fake source holds and what it was asked."""

    pages: dict[str | None, Batch] = field(default_factory=dict)
    unavailable_at: set[str | None] = field(default_factory=set)
    refuse: bool = False
    refuse_write_back: bool = False
    rotate_to: str | None = None
    on_write_back: Callable[[PaymentWriteBack], None] | None = None  # what happens at the source before it answers
    asked: list[str | None] = field(default_factory=list)
    written_back: list[PaymentWriteBack] = field(default_factory=list)
    links: list[CustomerLink] = field(default_factory=list)
    connected_with: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


SOURCE = Source()


class FakeConnector:
    def __init__(self, settings: Mapping[str, Any], secret: Mapping[str, str]) -> None:
        self.settings, self.secret = dict(settings), dict(secret)
        SOURCE.connected_with.append((self.settings, self.secret))

    def changes(self, cursor: str | None) -> Batch:
        SOURCE.asked.append(cursor)
        if SOURCE.refuse:
            raise sync.SourceRefused("the API key was revoked: paste a new one")
        if cursor in SOURCE.unavailable_at:
            raise sync.SourceUnavailable("the source answered 503", retry_after=30)
        return SOURCE.pages.get(cursor, Batch(cursor=cursor))

    def webhook(self, body: bytes, headers: Mapping[str, str]) -> Batch:
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE.lower(), "")
        if not hmac.compare_digest(given, sign(body, self.secret["webhookSecret"])):
            raise sync.WebhookRefused("the signature does not match")
        return Batch.model_validate_json(body)

    def write_back_payment(self, payment: PaymentWriteBack) -> str | None:
        if SOURCE.refuse_write_back:
            raise sync.SourceRefused("the invoice is closed at the source")
        SOURCE.written_back.append(payment)
        if SOURCE.on_write_back is not None:
            SOURCE.on_write_back(payment)
        return f"src_pay_{len(SOURCE.written_back)}"

    def write_back_link(self, link: CustomerLink) -> bool:
        SOURCE.links.append(link)
        return True

    def rotated_secret(self) -> dict[str, str] | None:
        return {"refreshToken": SOURCE.rotate_to} if SOURCE.rotate_to else None


def connect(settings: Mapping[str, Any], secret: Mapping[str, str]) -> FakeConnector:
    return FakeConnector(settings, secret)


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def fake_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[Source]:
    """Every source is the fake one for the test (the connectors' modules are not imported)."""
    for name in INTEGRATIONS:
        monkeypatch.setitem(sync._MODULES, name, __name__)
    SOURCE.reset()
    yield SOURCE
    SOURCE.reset()
