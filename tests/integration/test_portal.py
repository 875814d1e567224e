"""The customer portal and Stripe payments through the local runtime (moto, local Stripe stand-in)."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
import requests
from pypdf import PdfReader

from local.stripe import signature_header
from relance import clock
from relance.services import portal_links
from relance.services.dunning import open_invoices
from relance.services.organization_admin import create_organization
from tests.integration.conftest import mailing_runtime
from tests.integration.helpers import nightly_run_of, outbox
from tests.integration.test_mail_loop import new_user, notifications_of

DUE = "2026-10-31"


@pytest.fixture(scope="module")
def rt():
    """Real-time clock, a verified sender and an AR mailbox."""
    with mailing_runtime(time_scale=1) as started:
        api = started.api_session
        settings = api.get(f"{started.base_url}/v1/organization").json()["settings"]
        api.put(f"{started.base_url}/v1/organization/settings", json={**settings, "arEmail": "ar-team@relance.example"})
        yield started


def customer_with_invoices(rt, name, amounts, currency="USD", language="en", methods=None, **fields):
    api, base = rt.api_session, f"{rt.base_url}/v1"
    customer = api.post(
        f"{base}/customers",
        json={"name": name, "currency": currency, "language": language, **fields}
        | ({"paymentMethods": methods} if methods else {}),
    ).json()
    invoices = []
    for index, amount in enumerate(amounts):
        invoices.append(
            api.post(
                f"{base}/invoices",
                json={
                    "customerId": customer["id"],
                    "number": f"{name[:3].upper()}-{index + 1}",
                    "currency": currency,
                    "amount": amount,
                    "issuedAt": "2026-10-01",
                    "dueAt": DUE,
                },
            ).json()
        )
    return customer, invoices


def link_of(rt, customer_id, **body) -> str:
    answer = rt.api_session.post(f"{rt.base_url}/v1/customers/{customer_id}/portal-link", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["url"]


def payable_ids(html: str) -> list[str]:
    return re.findall(r'name="invoiceIds" value="([^"]+)"', html)


def invoice_of(rt, invoice_id):
    return rt.api_session.get(f"{rt.base_url}/v1/invoices/{invoice_id}").json()


def payments_of(rt, customer_id):
    return rt.api_session.get(f"{rt.base_url}/v1/payments", params={"customerId": customer_id}).json()["items"]


def events_on_timeline(rt, customer_id):
    items = rt.api_session.get(f"{rt.base_url}/v1/customers/{customer_id}/timeline").json()["items"]
    return [e.get("event") or e["kind"] for e in items]


def checkout(url: str, invoice_ids: list[str]) -> str:
    """Pay on the portal: the local checkout page it sends the visitor to."""
    answer = requests.post(f"{url}/pay", data={"invoiceIds": invoice_ids}, allow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    return answer.headers["Location"]


# ---------------------------------------------------------------- links and pages


def test_a_link_shows_the_customers_invoices_and_amounts_and_nothing_of_another(rt):
    customer, invoices = customer_with_invoices(rt, "Globex", [12_000, 3_400])
    other, others = customer_with_invoices(rt, "Initech", [99_900])

    page = requests.get(link_of(rt, customer["id"]))

    assert page.status_code == 200
    assert sorted(payable_ids(page.text)) == sorted(i["id"] for i in invoices)
    assert "$154.00" in page.text and "$120.00" in page.text and "$34.00" in page.text
    assert "Globex" in page.text
    assert "Initech" not in page.text and others[0]["id"] not in page.text and "$999.00" not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in page.headers["Cache-Control"]
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "portal_visited" in events_on_timeline(rt, customer["id"])
    assert "portal_visited" not in events_on_timeline(rt, other["id"])


def test_the_page_speaks_the_customers_language(rt):
    customer, _ = customer_with_invoices(rt, "Fromagerie", [150_000], currency="EUR", language="fr")

    page = requests.get(link_of(rt, customer["id"]))

    assert '<html lang="fr">' in page.text
    assert "Factures ouvertes" in page.text and "1\u202f500,00\xa0€" in page.text


def test_a_link_expires_after_the_organizations_validity(rt):
    customer, _ = customer_with_invoices(rt, "Umbrella", [1_000])
    url = link_of(rt, customer["id"], expiresInDays=2)
    assert requests.get(url).status_code == 200

    clock.advance(timedelta(days=2, seconds=1))
    expired = requests.get(url, headers={"Accept-Language": "fr-FR"})

    assert expired.status_code == 404
    assert "Ce lien n" in expired.text and "Umbrella" not in expired.text
    assert expired.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(f"{url}/statement.pdf").status_code == 404


def test_the_default_validity_is_the_organizations_setting(rt):
    customer, _ = customer_with_invoices(rt, "Hooli", [1_000])

    link = rt.api_session.post(f"{rt.base_url}/v1/customers/{customer['id']}/portal-link").json()

    days = (clock.now() + timedelta(days=7)).date().isoformat()
    assert link["expiresAt"].startswith(days)
    refused = rt.api_session.post(
        f"{rt.base_url}/v1/customers/{customer['id']}/portal-link", json={"expiresInDays": 1001}
    )
    assert refused.status_code == 422 and "expiresInDays" in refused.json()["error"]["fields"]


def test_forged_unknown_and_other_organization_tokens_are_the_same_404(rt):
    customer, _ = customer_with_invoices(rt, "Stark", [1_000])
    url = link_of(rt, customer["id"])
    token = url.rsplit("/", 1)[1]
    other_org, _ = create_organization("Other Org")
    other_customer_token = portal_links.issue(other_org.id, customer["id"], 7, "test").url.rsplit("/", 1)[1]
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character off
        token.replace(token.split("_")[1] + "_" + token.split("_")[2], other_org.id),  # another organization's id
        other_customer_token,  # a real link of another organization, naming this customer's id
        "pt_nothing",
    ]
    answers = [requests.get(f"{rt.base_url}/portal/{t}") for t in forged]

    assert [a.status_code for a in answers] == [404, 404, 404, 404]
    assert len({a.text for a in answers}) == 1  # nothing tells them apart
    assert "Stark" not in answers[2].text


def test_a_preview_link_shows_the_page_but_changes_nothing(rt):
    customer, _ = customer_with_invoices(rt, "Wayne", [1_000])
    url = link_of(rt, customer["id"], preview=True)

    page = requests.get(url)
    refused = requests.post(f"{url}/messages", data={"body": "hello"})

    assert "Preview" in page.text and not payable_ids(page.text)
    assert refused.status_code == 409
    assert "portal_visited" not in events_on_timeline(rt, customer["id"])
    assert "portal_message" not in events_on_timeline(rt, customer["id"])


# ---------------------------------------------------------------- documents


def test_statement_pdf_has_the_customers_totals(rt):
    customer, invoices = customer_with_invoices(rt, "Cyberdyne", [50_000, 30_000, 20_000])
    api, base = rt.api_session, f"{rt.base_url}/v1"
    api.post(
        f"{base}/payments",
        json={
            "customerId": customer["id"],
            "amount": 25_000,
            "currency": "USD",
            "receivedAt": "2026-11-01",
            "allocations": [{"invoiceId": invoices[0]["id"], "amount": 20_000}],
        },
    )  # 5,000 unapplied
    api.post(
        f"{base}/credit-notes",
        json={"customerId": customer["id"], "amount": 2_000, "currency": "USD", "issuedAt": "2026-11-02"},
    )
    outstanding = api.get(f"{base}/customers/{customer['id']}").json()["outstanding"]["USD"]

    answer = requests.get(f"{link_of(rt, customer['id'])}/statement.pdf")

    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert outstanding == 73_000
    assert re.search(r"Total open \$800\.00", text), text  # open: 300 + 300 + 200
    assert "-$50.00" in text and "-$20.00" in text  # unapplied payment and credit note
    assert re.search(r"Balance \$730\.00", text), text
    assert "CYB-1" in text and "1–30 days" in text


def test_an_invoice_pdf_is_a_short_lived_link_of_that_customers_invoice_only(rt):
    customer, invoices = customer_with_invoices(rt, "Tyrell", [1_000])
    _, others = customer_with_invoices(rt, "Soylent", [2_000])
    upload = rt.api_session.post(f"{rt.base_url}/v1/invoices/{invoices[0]['id']}/pdf").json()
    requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.pdf", b"%PDF-1.4 tyrell")}
    ).raise_for_status()
    url = link_of(rt, customer["id"])

    mine = requests.get(f"{url}/invoices/{invoices[0]['id']}.pdf", allow_redirects=False)
    theirs = requests.get(f"{url}/invoices/{others[0]['id']}.pdf", allow_redirects=False)

    assert mine.status_code == 303 and "Expires=" in mine.headers["Location"]
    assert requests.get(mine.headers["Location"]).content == b"%PDF-1.4 tyrell"
    assert theirs.status_code == 404


# ---------------------------------------------------------------- paying


def test_paying_two_invoices_by_card_records_one_payment_allocated_to_them(rt):
    customer, invoices = customer_with_invoices(rt, "Acme", [12_000, 3_400, 500])
    url = link_of(rt, customer["id"])

    page_url = checkout(url, [invoices[0]["id"], invoices[1]["id"]])
    assert "/dev/stripe/checkout/" in page_url
    back = requests.post(page_url, data={"method": "card"}, allow_redirects=False).headers["Location"]
    page = requests.get(back)

    [payment] = payments_of(rt, customer["id"])
    assert payment["amount"] == 15_400
    assert sorted((a["invoiceId"], a["amount"]) for a in payment["allocations"]) == sorted(
        [(invoices[0]["id"], 12_000), (invoices[1]["id"], 3_400)]
    )
    assert invoice_of(rt, invoices[0]["id"])["status"] == "paid"
    assert "your payment is received" in page.text
    assert payable_ids(page.text) == [invoices[2]["id"]]
    assert "payment" in events_on_timeline(rt, customer["id"])


def test_card_is_not_offered_above_the_organizations_limit(rt):
    customer, invoices = customer_with_invoices(
        rt, "Massive", [1_500_000], methods={"card": True, "bank_transfer": False, "ach_debit": False}
    )
    url = link_of(rt, customer["id"])

    refused = requests.post(f"{url}/pay", data={"invoiceIds": [invoices[0]["id"]]}, allow_redirects=False)

    assert refused.status_code == 422
    assert "No online payment method for this amount" in refused.text
    assert not payments_of(rt, customer["id"])


def test_above_the_limit_the_checkout_offers_the_other_methods(rt):
    customer, invoices = customer_with_invoices(
        rt, "Large", [1_500_000], methods={"card": True, "bank_transfer": True, "ach_debit": True}
    )
    page_url = checkout(link_of(rt, customer["id"]), [invoices[0]["id"]])

    offered = re.findall(r'name="method" value="([^"]+)"', requests.get(page_url).text)

    assert offered == ["us_bank_account", "customer_balance"]


def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(rt):
    customer, invoices = customer_with_invoices(rt, "Forgery", [1_000])
    page_url = checkout(link_of(rt, customer["id"]), [invoices[0]["id"]])
    session = rt.stripe.sessions[page_url.rsplit("/", 1)[1]]
    event = rt.stripe.event("checkout.session.completed", {**session, "payment_status": "paid"})
    payload = json.dumps(event)

    for signature in (signature_header(payload, "whsec_not_ours"), "t=1,v1=deadbeef", None):
        answer = requests.post(
            f"{rt.base_url}/v1/webhooks/stripe",
            data=payload,
            headers={"Stripe-Signature": signature} if signature else {},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "invalid_signature"
    assert not payments_of(rt, customer["id"])
    assert invoice_of(rt, invoices[0]["id"])["status"] == "open"


def test_the_same_event_twice_records_one_payment(rt):
    customer, invoices = customer_with_invoices(rt, "Twice", [2_000])
    page_url = checkout(link_of(rt, customer["id"]), [invoices[0]["id"]])
    session = rt.stripe.sessions[page_url.rsplit("/", 1)[1]]
    event = rt.stripe.event("checkout.session.completed", {**session, "status": "complete", "payment_status": "paid"})

    first = rt.stripe.deliver(event)
    again = rt.stripe.deliver(event)
    # Another event for the same checkout (Stripe never sends one, but nothing may record it twice):
    other = rt.stripe.send("checkout.session.async_payment_succeeded", {**session, "payment_status": "paid"})

    assert first["status"] == again["status"] == other["status"] == 200
    assert first["response"] == again["response"]
    assert len(payments_of(rt, customer["id"])) == 1
    assert invoice_of(rt, invoices[0]["id"])["paidAmount"] == 2_000


def test_an_ach_payment_is_in_flight_then_recorded_when_the_bank_confirms(rt):
    customer, invoices = customer_with_invoices(
        rt, "Slowbank", [4_000, 1_000], methods={"card": False, "bank_transfer": False, "ach_debit": True}
    )
    url = link_of(rt, customer["id"])
    page_url = checkout(url, [invoices[0]["id"]])

    requests.post(page_url, data={"method": "us_bank_account"})
    in_flight = invoice_of(rt, invoices[0]["id"])
    page = requests.get(url).text

    assert in_flight["paymentInFlight"] and in_flight["status"] == "open"
    assert not payments_of(rt, customer["id"])
    assert "Payment processing" in page and payable_ids(page) == [invoices[1]["id"]]
    assert "payment_processing" in events_on_timeline(rt, customer["id"])

    requests.post(f"{page_url}/settle", data={"outcome": "succeeded"})

    assert invoice_of(rt, invoices[0]["id"])["status"] == "paid"
    assert not invoice_of(rt, invoices[0]["id"])["paymentInFlight"]
    assert len(payments_of(rt, customer["id"])) == 1


def test_an_ach_payment_that_fails_leaves_the_invoice_open_and_logs_it(rt, caplog):
    manager = new_user(rt, "am-ach@relance.example", "Ann Ach")
    customer, invoices = customer_with_invoices(
        rt,
        "Bounced",
        [4_000],
        methods={"card": False, "bank_transfer": False, "ach_debit": True},
        accountManagerIds=[manager["id"]],
    )
    url = link_of(rt, customer["id"])
    page_url = checkout(url, [invoices[0]["id"]])
    requests.post(page_url, data={"method": "us_bank_account"})

    back = requests.post(f"{page_url}/settle", data={"outcome": "failed"}, allow_redirects=False)
    page = requests.get(back.headers["Location"]).text

    invoice = invoice_of(rt, invoices[0]["id"])
    assert invoice["status"] == "open" and not invoice["paymentInFlight"]
    assert not payments_of(rt, customer["id"])
    assert "did not go through" in page and payable_ids(page) == [invoices[0]["id"]]
    assert "payment_failed" in events_on_timeline(rt, customer["id"])
    [logged] = [r for r in caplog.records if r.getMessage() == "portal payment failed"]
    assert logged.levelname == "WARNING"
    assert "payment_failed" in {n["kind"] for n in notifications_of(rt, manager["id"])["items"]}


# ---------------------------------------------------------------- messages, disputes, promises


def test_a_message_goes_to_the_ar_mailbox_and_onto_the_timeline(rt):
    customer, _ = customer_with_invoices(rt, "Chatty", [1_000])
    url = link_of(rt, customer["id"])

    sent = requests.post(
        f"{url}/messages", data={"body": "We paid last week, see remittance.", "email": "ap@chatty.example"}
    )
    requests.post(f"{url}/messages", data={"body": "We paid last week, see remittance."})  # double click

    assert sent.status_code == 200 and "your message is sent" in sent.text
    [mail] = outbox(rt, "ar-team@relance.example")
    assert "We paid last week" in mail["text"] and "Chatty" in mail["subject"]
    assert events_on_timeline(rt, customer["id"]).count("portal_message") == 1


def test_an_empty_message_is_refused_naming_the_field(rt):
    customer, _ = customer_with_invoices(rt, "Silent", [1_000])

    refused = requests.post(f"{link_of(rt, customer['id'])}/messages", data={"body": "  "})

    assert refused.status_code == 422 and "body" in refused.text


def test_a_dispute_takes_the_invoice_out_of_dunning_until_resolved(rt):
    customer, invoices = customer_with_invoices(rt, "Quibble", [1_000, 2_000])
    url = link_of(rt, customer["id"])
    org = rt.session["organization"]["id"]

    unknown = requests.post(f"{url}/disputes", data={"invoiceId": invoices[0]["id"], "reason": "Because"})
    requests.post(f"{url}/disputes", data={"invoiceId": invoices[0]["id"], "reason": "Wrong amount"})

    assert unknown.status_code == 422 and "reason" in unknown.text
    disputed = invoice_of(rt, invoices[0]["id"])
    assert disputed["disputed"]["reason"] == "Wrong amount"
    assert [i.excluded for i in open_invoices(org, customer["id"])] == [True, False]
    assert "dispute_opened" in events_on_timeline(rt, customer["id"])

    resolved = rt.api_session.post(f"{rt.base_url}/v1/invoices/{invoices[0]['id']}/resolve-dispute", json={})

    assert resolved.status_code == 200 and resolved.json()["disputed"] is None
    assert [i.excluded for i in open_invoices(org, customer["id"])] == [False, False]
    assert "dispute_resolved" in events_on_timeline(rt, customer["id"])


def test_a_promise_holds_dunning_until_its_date_and_a_broken_one_notifies(rt):
    manager = new_user(rt, "am-p@relance.example", "Pat Promise")
    customer, invoices = customer_with_invoices(rt, "Promising", [1_000, 2_000], accountManagerIds=[manager["id"]])
    url = link_of(rt, customer["id"], expiresInDays=30)
    org = rt.session["organization"]["id"]
    by = (clock.now() + timedelta(days=3)).date()

    past = requests.post(f"{url}/promise", data={"invoiceIds": [invoices[0]["id"]], "promisedFor": "2020-01-01"})
    made = requests.post(f"{url}/promise", data={"invoiceIds": [invoices[0]["id"]], "promisedFor": by.isoformat()})

    assert past.status_code == 422 and "promisedFor" in past.text
    assert made.status_code == 200 and "promise to pay" in made.text
    assert invoice_of(rt, invoices[0]["id"])["promisedUntil"] == by.isoformat()
    assert [i.excluded for i in open_invoices(org, customer["id"])] == [True, False]

    # past the night after the promised day, whatever the hour now: that nightly run finds it broken
    clock.advance(nightly_run_of(by + timedelta(days=1)) + timedelta(minutes=1) - clock.now())

    assert invoice_of(rt, invoices[0]["id"])["promisedUntil"] is None
    assert [i.excluded for i in open_invoices(org, customer["id"])] == [False, False]
    assert "promise_broken" in events_on_timeline(rt, customer["id"])
    inbox = notifications_of(rt, manager["id"])["items"]
    assert {"promise_to_pay", "promise_broken"} <= {n["kind"] for n in inbox}


# ---------------------------------------------------------------- the sample events


def test_the_portal_function_takes_its_sample_event(rt, sample_event):
    customer, _ = customer_with_invoices(rt, "Sampled Portal", [1_000], language="fr")
    event = sample_event("portal/get-page.json")
    unknown = rt.functions["PortalFunction"].invoke(event)  # the sample's token is no real link
    token = link_of(rt, customer["id"]).rsplit("/", 1)[1]
    event["path"], event["pathParameters"] = f"/portal/{token}", {"token": token}

    page = rt.functions["PortalFunction"].invoke(event)

    assert unknown["statusCode"] == 404 and "Ce lien" in unknown["body"]
    assert page["statusCode"] == 200 and "Sampled Portal" in page["body"]
    assert page["multiValueHeaders"]["Referrer-Policy"] == ["no-referrer"]


def test_the_webhook_function_takes_its_sample_event_only_when_signed_with_our_secret(rt, sample_event):
    event = sample_event("stripe_webhook/checkout-session-completed.json")
    refused = rt.functions["StripeWebhookFunction"].invoke(event)
    event["headers"]["Stripe-Signature"] = signature_header(event["body"], rt.stripe.webhook_secret)

    accepted = rt.functions["StripeWebhookFunction"].invoke(event)

    assert refused["statusCode"] == 400
    assert accepted["statusCode"] == 200 and json.loads(accepted["body"]) == {"outcome": "ignored"}  # not our checkout


def test_portal_settings_are_validated_naming_the_field(rt):
    api, url = rt.api_session, f"{rt.base_url}/v1/organization/settings"
    settings = api.get(f"{rt.base_url}/v1/organization").json()["settings"]

    for field, value in (
        ("logoUrl", "http://insecure.example/logo.png"),
        ("cardPaymentLimit", -1),
        ("disputeReasons", []),
    ):
        refused = api.put(url, json={**settings, field: value})
        assert refused.status_code == 422 and field in refused.json()["error"]["fields"], refused.text
    saved = api.put(url, json={**settings, "cardPaymentLimit": None, "disputeReasons": ["Wrong price"]})
    assert saved.status_code == 200
    assert (saved.json()["settings"]["cardPaymentLimit"], saved.json()["settings"]["disputeReasons"]) == (
        None,
        ["Wrong price"],
    )
    api.put(url, json=settings)
