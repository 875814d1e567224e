"""Portal links: an unguessable token per link, scoped to one customer, expiring, revocable.

The token (``pt_<org>_<secret>``, 256 bits of randomness) is handed out once; only the
SHA-256 of its secret is stored. Every use checks the expiry (DynamoDB TTL only cleans up) and
the customer's link generation: revoking a customer's links (``revoke``) moves it to the next
generation, so every link issued before is dead at once and answers as an unknown one.

Stripe Checkout never sees a token: its success and cancel URLs carry a way back
(``pr_<org>_<checkout>_<secret>``, stored hashed on the checkout, valid ``RETURN_VALIDITY``) that
opens the portal through a new link expiring with the one the payment started from, and only
while that one is still live.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import AwareDatetime

from relance import clock
from relance.domain import tokens
from relance.domain.base import RelanceModel
from relance.domain.portal import link_open
from relance.errors import NotFound
from relance.settings import get_settings
from relance.storage import checkouts
from relance.storage import customers as customer_store
from relance.storage import portal_links as store

PREFIX = "pt"
RETURN_PREFIX = "pr"
RETURN_VALIDITY = timedelta(hours=25)  # Stripe keeps a Checkout session open 24 hours


class PortalLink(RelanceModel):
    url: str
    expires_at: AwareDatetime


class PortalAccess(NamedTuple):
    """Who a valid token lets in, and the link it is."""

    organization_id: str
    customer_id: str
    preview: bool
    link_hash: str = ""
    generation: int = 0
    expires_at: str = ""


def generation_of(customer: dict[str, Any]) -> int:
    """The customer's current link generation: links of another one are revoked."""
    return int(customer.get("portalLinkGeneration") or 0)


def issue(
    org_id: str,
    customer_id: str,
    valid_days: int,
    reason: str,
    *,
    preview: bool = False,
    generation: int = 0,
    expires_at: datetime | None = None,
) -> PortalLink:
    """A new link for the customer of its current ``generation``, stored hashed with its expiry
    (``expires_at``, else ``valid_days`` from now; DynamoDB TTL only cleans up)."""
    plaintext, token_hash = tokens.generate(PREFIX, org_id)
    now = clock.now()
    until: datetime = expires_at or now + timedelta(days=valid_days)
    store.put_link(
        org_id,
        token_hash,
        {
            "customerId": customer_id,
            "createdAt": now.isoformat(),
            "expiresAt": until.isoformat(),
            "reason": reason,
            "preview": preview,
            "generation": generation,
            "ttl": int(until.timestamp()) + 86400,
        },
    )
    return PortalLink(url=f"{get_settings().public_base_url}/portal/{plaintext}", expires_at=until)


def resolve(raw: str) -> PortalAccess:
    """The customer a presented token opens; NotFound (never saying why) when it is malformed,
    unknown or expired. The caller checks the generation against the customer (``current``)."""
    parsed = tokens.parse(PREFIX, raw)
    if parsed is None:
        raise NotFound("no such portal link")
    return _live(parsed.organization_id, parsed.secret_hash)


def _live(org_id: str, token_hash: str) -> PortalAccess:
    link = store.get_link(org_id, token_hash)
    if link is None or not link_open(link["expiresAt"], clock.now()):
        raise NotFound("no such portal link")
    return PortalAccess(
        org_id,
        link["customerId"],
        bool(link.get("preview")),
        token_hash,
        int(link.get("generation") or 0),
        link["expiresAt"],
    )


def current(access: PortalAccess, customer: dict[str, Any] | None) -> dict[str, Any]:
    """The customer of a live link, unless it is gone or its links were revoked since: NotFound alike."""
    if customer is None or access.generation != generation_of(customer):
        raise NotFound("no such portal link")
    return customer


# ---------------------------------------------------------------- the way back from Stripe


class WayBack(NamedTuple):
    """Where Stripe sends the payer back, and what the checkout keeps to recognise it."""

    success_url: str
    cancel_url: str
    stored: dict[str, Any]


def way_back(access: PortalAccess, checkout_id: str) -> WayBack:
    """An opaque, short-lived way back to the portal for one checkout: Stripe never sees the token."""
    plaintext, secret_hash = tokens.generate_for(RETURN_PREFIX, access.organization_id, checkout_id)
    url = f"{get_settings().public_base_url}/portal/return/{plaintext}"
    until = min(
        clock.now() + RETURN_VALIDITY,
        datetime.fromisoformat(access.expires_at) if access.expires_at else clock.now() + RETURN_VALIDITY,
    )
    stored = {"returnHash": secret_hash, "returnExpiresAt": until.isoformat(), "linkHash": access.link_hash}
    return WayBack(success_url=url, cancel_url=f"{url}?cancelled=1", stored=stored)


def come_back(raw: str) -> tuple[PortalLink, str]:
    """The portal again for a payer Stripe sends back: a new link of the customer, expiring with the
    one the payment started from, and the checkout it is about. NotFound (as any unknown link) when
    the way back is malformed, unknown, expired, or its link expired or was revoked."""
    parsed = tokens.parse_for(RETURN_PREFIX, "chk", raw)
    if parsed is None:
        raise NotFound("no such portal link")
    checkout = checkouts.get_checkout(parsed.organization_id, parsed.record_id)
    if (
        checkout is None
        or not checkout.get("returnHash")
        or not hmac.compare_digest(str(checkout["returnHash"]), parsed.secret_hash)
        or not link_open(checkout["returnExpiresAt"], clock.now())
    ):
        raise NotFound("no such portal link")
    access = _live(parsed.organization_id, str(checkout.get("linkHash") or "-"))
    customer = customer_store.get_customer(parsed.organization_id, access.customer_id, consistent=True)
    current(access, customer)
    if access.customer_id != checkout["customerId"]:
        raise NotFound("no such portal link")
    link = issue(
        parsed.organization_id,
        access.customer_id,
        0,
        f"back from payment {checkout['id']}",
        preview=access.preview,
        generation=access.generation,
        expires_at=datetime.fromisoformat(access.expires_at),
    )
    return link, str(checkout["id"])
