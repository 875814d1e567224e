"""Portal tokens once sent, and the way back from Stripe: the pure rules."""

import pytest

from relance.domain import tokens
from relance.errors import NotFound
from relance.services.portal_links import PortalAccess, current

ORG = "org_01jd3x0000000000000000000a"
CHECKOUT = "chk_01jd3x0000000000000000000b"


def test_a_sent_message_is_kept_with_every_portal_token_redacted():
    first, _ = tokens.generate("pt", ORG)
    second, _ = tokens.generate("pt", ORG)
    text = f"Pay here: https://pay.example/portal/{first}\nor https://pay.example/portal/{second}?x=1 (ref rk_kept)"

    kept = tokens.redact("pt", text)

    assert kept == "Pay here: https://pay.example/portal/[link]\nor https://pay.example/portal/[link]?x=1 (ref rk_kept)"
    assert tokens.redact("pt", "nothing to hide") == "nothing to hide"


def test_a_way_back_names_its_checkout_and_parses_back_to_its_hash():
    plaintext, secret_hash = tokens.generate_for("pr", ORG, CHECKOUT)

    parsed = tokens.parse_for("pr", "chk", plaintext)

    assert plaintext.startswith(f"pr_{ORG}_{CHECKOUT}_") and secret_hash not in plaintext
    assert parsed == tokens.ParsedReference(ORG, CHECKOUT, secret_hash)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        f"pr_{ORG}_{CHECKOUT}",
        f"pr_{ORG}_{CHECKOUT}_short",
        f"pt_{ORG}_{CHECKOUT}_{'a' * 43}",  # another kind of token
        f"pr_{ORG}_inv_01jd3x0000000000000000000b_{'a' * 43}",  # another kind of record
        f"pr_{ORG}_{CHECKOUT}_{'a' * 42}!",
    ],
)
def test_anything_else_is_no_way_back(raw):
    assert tokens.parse_for("pr", "chk", raw) is None


def test_a_link_of_an_earlier_generation_is_revoked_and_answers_as_unknown():
    link = PortalAccess(ORG, "cus_1", preview=False, generation=0)
    customer = {"id": "cus_1"}

    assert current(link, customer) is customer
    with pytest.raises(NotFound) as revoked:
        current(link, {"id": "cus_1", "portalLinkGeneration": 1})
    with pytest.raises(NotFound) as gone:
        current(link, None)
    assert revoked.value.message == gone.value.message
    assert current(PortalAccess(ORG, "cus_1", preview=False, generation=1), {"portalLinkGeneration": 1})
