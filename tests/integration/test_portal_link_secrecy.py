"""Portal tokens are bearer secrets: never stored or shown after they are sent, never handed to
Stripe, and revocable - a revoked link answers exactly as an expired one."""

from __future__ import annotations

import re
from datetime import timedelta

import requests

from relance import clock
from relance.storage import checkouts
from tests.integration.helpers import actions_of, jump_until, ok, outbox, start_customer
from tests.integration.test_account_manager_scope import signed_in

TOKEN = re.compile(r"pt_org_[0-9a-z]{26}_[A-Za-z0-9_-]{43}")
RETURN = re.compile(r"/portal/return/[A-Za-z0-9_-]+")


def link_of(runtime, customer_id: str, **body) -> str:
    return ok(runtime.api_session.post(f"{runtime.base_url}/v1/customers/{customer_id}/portal-link", json=body), 201)[
        "url"
    ]


def unknown_link_page(runtime) -> requests.Response:
    return requests.get(f"{runtime.base_url}/portal/pt_nothing")


def start_payment(runtime, customer_id: str, invoice_id: str) -> tuple[dict, str]:
    """Pay on the portal: the Stripe session the visitor is sent to, and its page."""
    answer = requests.post(
        f"{link_of(runtime, customer_id)}/pay", data={"invoiceIds": [invoice_id]}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text[:300]
    page = answer.headers["Location"]
    return runtime.stripe.sessions[page.rsplit("/", 1)[1]], page


def test_a_reminder_is_stored_and_shown_with_its_portal_link_redacted(fast):
    customer_id, _ = start_customer(fast, "Redacted Ltd", "ap@redacted.example", due_days_ago=2)

    [mail] = jump_until(fast, lambda: outbox(fast, "ap@redacted.example"))

    [token] = TOKEN.findall(mail["text"])  # the customer's email carries the link
    [sent] = actions_of(fast, customer_id, "sent")
    assert "/portal/[link]" in sent["text"] and not TOKEN.search(sent["text"])
    assert token not in ok(fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/actions")).__repr__()
    assert requests.get(f"{fast.base_url}/portal/{token}").status_code == 200  # and it works
    manual = ok(fast.api_session.post(f"{fast.base_url}/v1/actions", json={"customerId": customer_id, "type": "email"}))
    assert manual["status"] == "sent" and "/portal/[link]" in manual["text"] and not TOKEN.search(manual["text"])


def test_stripe_gets_an_opaque_way_back_that_opens_the_portal_and_never_the_token(fast):
    customer_id, invoice_id = start_customer(fast, "Opaque Return", "ap@opaque.example", due_days_ago=2)
    session, page = start_payment(fast, customer_id, invoice_id)

    assert not TOKEN.search(session["success_url"]) and not TOKEN.search(session["cancel_url"] or "")
    assert RETURN.search(session["success_url"]) and RETURN.search(session["cancel_url"])
    checkout = checkouts.get_checkout(fast.session["organization"]["id"], session["metadata"]["checkoutId"])
    reference = session["success_url"].rsplit("/", 1)[1].split("?")[0]
    assert reference not in repr(checkout)  # stored hashed only

    paid = requests.post(page, data={"method": "card"})

    assert paid.status_code == 200 and paid.history and paid.history[-1].status_code == 303
    assert TOKEN.search(paid.url) and f"payment={session['metadata']['checkoutId']}" in paid.url
    assert "your payment is received" in paid.text
    cancelled = requests.get(session["cancel_url"])
    assert cancelled.status_code == 200 and "nothing was charged" in cancelled.text


def test_the_way_back_from_stripe_expires_and_never_outlives_its_link(fast):
    customer_id, invoice_id = start_customer(fast, "Short Return", "ap@short.example", due_days_ago=2)
    session, _ = start_payment(fast, customer_id, invoice_id)
    forged = re.sub(r"[A-Za-z0-9_-]{6}$", "AAAAAA", session["success_url"])

    assert requests.get(forged).text == unknown_link_page(fast).text
    clock.advance(timedelta(hours=25, seconds=1))
    late = requests.get(session["success_url"], allow_redirects=False)
    assert late.status_code == 404 and late.text == unknown_link_page(fast).text


def test_revoking_a_customers_links_makes_each_answer_as_an_unknown_one(fast):
    customer_id, invoice_id = start_customer(fast, "Revoked Co", "ap@revoked.example", due_days_ago=20)
    links = [link_of(fast, customer_id), link_of(fast, customer_id, preview=True)]
    session, _ = start_payment(fast, customer_id, invoice_id)
    other_id, _ = start_customer(fast, "Kept Co", "ap@kept.example", due_days_ago=20)
    kept = link_of(fast, other_id)
    manager, manager_api = signed_in(fast, name="Rex")
    outsider = manager_api.delete(f"{fast.base_url}/v1/customers/{customer_id}/portal-links")
    assert outsider.status_code == 404  # an account manager who does not see the customer: as if absent
    assert all(requests.get(url).status_code == 200 for url in links)

    ok(
        fast.api_session.patch(
            f"{fast.base_url}/v1/customers/{customer_id}", json={"accountManagerIds": [manager["id"]]}
        )
    )
    revoked = manager_api.delete(f"{fast.base_url}/v1/customers/{customer_id}/portal-links")

    assert revoked.status_code == 204, revoked.text
    unknown = unknown_link_page(fast)
    for url in [*links, f"{links[0]}/statement.pdf", session["success_url"]]:
        answer = requests.get(url, allow_redirects=False)
        assert (answer.status_code, answer.text) == (404, unknown.text), url
    assert requests.post(f"{links[0]}/messages", data={"body": "hello?"}).status_code == 404
    assert requests.get(kept).status_code == 200  # another customer's links live on
    fresh = link_of(fast, customer_id)
    assert requests.get(fresh).status_code == 200  # a link issued afterwards works
    items = ok(fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/timeline"))["items"]
    [event] = [e for e in items if e.get("event") == "portal_links_revoked"]
    assert event["byName"] == "Rex"
    missing = fast.api_session.delete(f"{fast.base_url}/v1/customers/cus_00000000000000000000000000/portal-links")
    assert missing.status_code == 404
