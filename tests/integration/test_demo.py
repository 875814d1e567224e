"""The demo organization `make run` starts with: lived-in, consistent, and scoped per person."""

import requests

from local.stripe_billing import COMPANY
from relance.services.nightly import reconcile_customer
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store


def test_demo_has_life_in_it(demo):
    org = demo.session["organization"]["id"]
    customers = customer_store.list_customers(org)
    invoices = ledger_store.invoices_of_organization(org)
    own = [i for i in invoices if i.get("syncedFrom") != "stripe"]

    assert len([c for c in customers if c.get("syncedFrom") != "stripe"]) == 50
    assert len(own) >= 300
    assert {i["currency"] for i in own} == {"USD", "EUR", "GBP"}
    assert {i["status"] for i in own} == {"open", "paid"}
    assert {c.get("rating") for c in customers} >= {"A", "B", "C", "D"}
    assert sorted(u["role"] for u in demo.session["users"]) == ["account_manager", "account_manager", "admin"]


def test_demo_bills_from_its_stripe_account_too(demo):
    org = demo.session["organization"]["id"]
    customers = customer_store.list_customers(org)
    invoices = [i for i in ledger_store.invoices_of_organization(org) if i.get("syncedFrom") == "stripe"]

    assert len([c for c in customers if c.get("syncedFrom") == "stripe"]) == len(COMPANY) == 11
    assert {i["currency"] for i in invoices} == {"USD", "EUR", "JPY"}
    assert {i["status"] for i in invoices} == {"open", "paid", "voided"}
    assert demo.session["stripeBilling"]["account"] == "Northwind Software"


def test_demo_has_a_conversation_to_show(demo):
    api = requests.Session()
    api.headers["X-Api-Key"] = demo.session["apiKey"]
    customers = api.get(f"{demo.base_url}/v1/customers", params={"limit": 200}).json()["items"]
    noted = [
        summary
        for summary in (api.get(f"{demo.base_url}/v1/customers/{c['id']}").json() for c in customers)
        if summary["pinnedNotes"]
    ]

    assert len(noted) == 1 and "@usr_" in noted[0]["pinnedNotes"][0]["body"]
    timeline = api.get(f"{demo.base_url}/v1/customers/{noted[0]['id']}/timeline").json()["items"]
    assert {"note", "reply_in"} <= {e["kind"] for e in timeline}


def test_demo_balances_agree_with_its_ledger(demo):
    org = demo.session["organization"]["id"]

    drift = [
        reconcile_customer(org, customer_store.get_customer(org, c["id"], consistent=True))
        for c in customer_store.list_customers(org)
    ]

    assert [d for d in drift if d] == []


def test_an_account_manager_signs_in_and_sees_only_their_customers(demo):
    manager = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    token = requests.post(f"{demo.base_url}/dev/login", json={"email": manager["email"]}).json()["idToken"]
    headers = {"Authorization": f"Bearer {token}"}

    mine = requests.get(f"{demo.base_url}/v1/customers", params={"limit": 200}, headers=headers).json()["items"]
    me = requests.get(f"{demo.base_url}/v1/me", headers=headers).json()
    everyone = requests.get(
        f"{demo.base_url}/v1/customers", params={"limit": 200}, headers={"X-Api-Key": demo.session["apiKey"]}
    ).json()["items"]

    assert me["principal"]["role"] == "account_manager"
    assert 0 < len(mine) < len(everyone) == 50 + len(COMPANY)  # the demo's and its Stripe account's
    assert all(me["principal"]["userId"] in c["accountManagerIds"] for c in mine)
    others = [c for c in everyone if me["principal"]["userId"] not in c["accountManagerIds"]]
    assert requests.get(f"{demo.base_url}/v1/customers/{others[0]['id']}", headers=headers).status_code == 404


def test_dev_login_refuses_someone_else(demo):
    response = requests.post(f"{demo.base_url}/dev/login", json={"email": "nobody@example.com"})

    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]


def test_demo_session_links_to_the_portal_of_the_customer_owing_the_most(demo):
    page = requests.get(demo.session["demoPortalUrl"])

    assert page.status_code == 200
    assert 'id="pay"' in page.text and 'name="invoiceIds"' in page.text
    assert "Send us a message" in page.text or "Nous écrire" in page.text


def test_demo_sender_went_through_verification_and_is_verified(demo):
    api = requests.Session()
    api.headers["X-Api-Key"] = demo.session["apiKey"]

    sender = api.get(f"{demo.base_url}/v1/organization").json()["sender"]

    assert (sender["email"], sender["status"]) == ("ar@demo.relance.dev", "verified")
    assert sender["verificationSentAt"]  # set through the settings, as on AWS, then clicked by the stand-in
