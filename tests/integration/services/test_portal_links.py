"""Portal links issued, resolved, expired and revoked (services.portal_links on the table)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relance import clock
from relance.domain import tokens
from relance.errors import NotFound
from relance.services import portal_links, team_portal_links, timeline
from relance.services.team_portal_links import PortalLinkRequest
from relance.storage import customers as customer_store
from relance.storage import keys
from relance.storage import portal_links as store


def _token(url: str) -> str:
    return url.rsplit("/portal/", 1)[1]


def _opened(token: str, organization) -> str:
    """The customer a token opens now, as the portal checks it (NotFound when it opens none)."""
    access = portal_links.resolve(token)
    return portal_links.current(access, customer_store.get_customer(organization.id, access.customer_id))["id"]


def test_a_link_opens_its_customer_and_only_the_hash_of_its_secret_is_stored(organization, admin, customer):
    before = clock.now()

    link = team_portal_links.create(admin, customer.id, PortalLinkRequest())

    token = _token(link.url)
    assert _opened(token, organization) == customer.id
    validity = timedelta(days=organization.settings.portal_link_validity_days)
    assert before + validity <= link.expires_at <= clock.now() + validity
    parsed = tokens.parse(portal_links.PREFIX, token)
    assert parsed is not None
    stored = store.get_link(organization.id, parsed.secret_hash)
    assert stored is not None and stored["customerId"] == customer.id and stored["preview"] is False
    assert token.rsplit("_", 1)[1] not in str(stored)


def test_a_preview_link_says_so_and_lasts_the_days_asked(organization, admin, customer):
    link = team_portal_links.create(admin, customer.id, PortalLinkRequest(expires_in_days=2, preview=True))

    access = portal_links.resolve(_token(link.url))

    assert access.preview is True
    assert timedelta(days=2) - timedelta(minutes=1) < link.expires_at - clock.now() <= timedelta(days=2)


@pytest.mark.parametrize("token", ["", "pt_nothing", "pt_org_00000000000000000000000000_" + "A" * 43])
def test_a_malformed_or_unknown_token_opens_nothing(token, runtime):
    with pytest.raises(NotFound):
        portal_links.resolve(token)


def test_an_expired_link_opens_nothing(organization, customer):
    link = portal_links.issue(organization.id, customer.id, 1, "test", expires_at=clock.now() - timedelta(seconds=1))

    with pytest.raises(NotFound):
        portal_links.resolve(_token(link.url))


def test_revoking_kills_every_link_issued_before_and_the_team_sees_who_did_it(organization, admin, customer):
    first = _token(team_portal_links.create(admin, customer.id, PortalLinkRequest()).url)
    second = _token(team_portal_links.create(admin, customer.id, PortalLinkRequest()).url)

    team_portal_links.revoke(admin, customer.id)

    for token in (first, second):
        with pytest.raises(NotFound):
            _opened(token, organization)
    after = _token(team_portal_links.create(admin, customer.id, PortalLinkRequest()).url)
    assert _opened(after, organization) == customer.id
    entries, _ = timeline.raw_page(organization.id, keys.customer_subject(customer.id))
    assert [(e["kind"], e["event"], e["by"]) for e in entries] == [
        ("event", "portal_links_revoked", admin.principal_id)
    ]
