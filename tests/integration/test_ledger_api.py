"""The receivables ledger through the local runtime's HTTP front (API Gateway → authorizer → API)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from relance.storage import customers as customer_store


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.fixture
def customer(api, url):
    def make(**fields):
        body = {"name": "Globex Corporation", "currency": "USD", **fields}
        response = api.post(url("/customers"), json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture
def invoice(api, url):
    def make(customer_id, amount=10000, due="2026-01-31", currency="USD", **fields):
        body = {
            "customerId": customer_id,
            "number": fields.pop("number", "INV-1"),
            "currency": currency,
            "amount": amount,
            "issuedAt": "2026-01-01",
            "dueAt": due,
            **fields,
        }
        response = api.post(url("/invoices"), json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


def pay(api, url, customer_id, amount, allocations=(), received="2026-02-07", currency="USD"):
    body = {
        "customerId": customer_id,
        "amount": amount,
        "currency": currency,
        "receivedAt": received,
        "allocations": [{"invoiceId": i, "amount": a} for i, a in allocations],
    }
    return api.post(url("/payments"), json=body)


def summary(api, url, customer_id):
    response = api.get(url(f"/customers/{customer_id}"))
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- customers


def test_create_and_read_a_customer(api, url, customer):
    created = customer(externalId="ERP-1", tags=["key-account"], paymentMethods={"card": False, "ach_debit": True})

    read = summary(api, url, created["id"])

    assert read["name"] == "Globex Corporation"
    assert read["externalId"] == "ERP-1"
    assert read["paymentMethods"] == {"card": False, "bank_transfer": True, "ach_debit": True, "sepa_debit": False}
    assert read["outstanding"] == {}
    assert read["rating"] is None
    assert read["contacts"] == [] and read["openInvoices"] == []


def test_due_date_before_issue_date_is_refused_naming_due_at(api, url, customer):
    c = customer()

    response = api.post(
        url("/invoices"),
        json={
            "customerId": c["id"],
            "number": "X",
            "currency": "USD",
            "amount": 1,
            "issuedAt": "2026-02-01",
            "dueAt": "2026-01-01",
        },
    )

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"dueAt": "cannot be before issuedAt"}


def test_bad_customer_fields_are_named(api, url):
    response = api.post(url("/customers"), json={"name": "", "currency": "EURO", "tags": "x"})

    assert response.status_code == 422
    assert {"name", "currency", "tags"} <= set(response.json()["error"]["fields"])


def test_external_id_is_unique_and_upserts(api, url, customer):
    customer(externalId="ERP-UP")

    duplicate = api.post(url("/customers"), json={"name": "Other", "externalId": "ERP-UP"})
    replaced = api.put(url("/customers/external/ERP-UP"), json={"name": "Renamed Ltd", "currency": "USD"})
    created = api.put(url("/customers/external/ERP-NEW"), json={"name": "Brand New"})

    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["fields"] == {"externalId": "already used"}
    assert (replaced.status_code, replaced.json()["name"]) == (200, "Renamed Ltd")
    assert (created.status_code, created.json()["externalId"]) == (201, "ERP-NEW")


def test_patch_changes_only_what_is_sent(api, url, customer):
    created = customer(tags=["a"])
    workflow = api.get(url("/workflows")).json()["items"][0]["id"]

    patched = api.patch(url(f"/customers/{created['id']}"), json={"dunningPlanId": workflow}).json()
    unknown = api.patch(url(f"/customers/{created['id']}"), json={"dunningPlanId": "wf_nowhere"})

    assert patched["dunningPlanId"] == workflow
    assert patched["tags"] == ["a"]
    assert unknown.status_code == 422 and unknown.json()["error"]["fields"] == {"dunningPlanId": "no such workflow"}


def test_delete_customer_without_ledger_only(api, url, customer, invoice):
    empty, busy = customer(), customer()
    invoice(busy["id"])

    assert api.delete(url(f"/customers/{empty['id']}")).status_code == 204
    assert api.get(url(f"/customers/{empty['id']}")).status_code == 404
    assert api.delete(url(f"/customers/{busy['id']}")).status_code == 409


# ---------------------------------------------------------------- money


def test_worked_example_rates_a_with_25_days(api, url, customer, invoice):
    c = customer()
    first = invoice(c["id"], amount=14000, number="W-1")
    second = invoice(c["id"], amount=8500, number="W-2")

    assert pay(api, url, c["id"], 14000, [(first["id"], 14000)], received="2026-02-07").status_code == 201
    assert pay(api, url, c["id"], 8500, [(second["id"], 8500)], received="2026-03-27").status_code == 201

    read = summary(api, url, c["id"])
    assert read["averagePaymentDelayDays"] == 25
    assert read["rating"] == "A"
    assert read["outstanding"] == {}
    paid = api.get(url(f"/invoices/{first['id']}")).json()
    assert (paid["status"], paid["paidAt"], paid["outstanding"]) == ("paid", "2026-02-07", 0)


def test_partial_payment_credit_note_unapplied_and_refund(api, url, customer, invoice):
    c = customer()
    inv = invoice(c["id"], amount=10000)

    pay(api, url, c["id"], 7000, [(inv["id"], 4000)])  # 3000 unapplied
    note = api.post(
        url("/credit-notes"),
        json={"customerId": c["id"], "amount": 1000, "currency": "USD", "issuedAt": "2026-02-10"},
    ).json()

    read = summary(api, url, c["id"])
    assert read["outstanding"] == {"USD": 10000 - 4000 - 3000 - 1000}
    assert read["openInvoices"][0]["outstanding"] == 6000

    refund = api.post(
        url("/refunds"),
        json={
            "customerId": c["id"],
            "amount": 1000,
            "currency": "USD",
            "refundedAt": "2026-02-11",
            "creditNoteId": note["id"],
        },
    )
    too_much = api.post(
        url("/refunds"),
        json={"customerId": c["id"], "amount": 5000, "currency": "USD", "refundedAt": "2026-02-11"},
    )

    assert refund.status_code == 201
    assert summary(api, url, c["id"])["outstanding"] == {"USD": 3000}
    assert too_much.status_code == 422
    assert "amount" in too_much.json()["error"]["fields"]


def test_money_is_kept_per_currency(api, url, customer, invoice):
    c = customer()
    invoice(c["id"], amount=5000, currency="EUR", number="E-1")
    invoice(c["id"], amount=700, currency="JPY", number="J-1")

    assert summary(api, url, c["id"])["outstanding"] == {"EUR": 5000, "JPY": 700}


def test_over_allocation_and_foreign_invoice_are_refused_naming_the_field(api, url, customer, invoice):
    c, other = customer(), customer()
    inv = invoice(c["id"], amount=1000)
    foreign = invoice(other["id"], amount=1000)

    over = pay(api, url, c["id"], 5000, [(inv["id"], 2000)])
    wrong = pay(api, url, c["id"], 500, [(foreign["id"], 500)])
    too_many = pay(api, url, c["id"], 100, [(inv["id"], 200)])

    assert over.json()["error"]["fields"] == {"allocations[0].amount": "at most 1000 can be applied to this invoice"}
    assert "allocations[0].invoiceId" in wrong.json()["error"]["fields"]
    assert "allocations" in too_many.json()["error"]["fields"]
    assert summary(api, url, c["id"])["outstanding"] == {"USD": 1000}  # nothing half-written


def test_void_takes_the_invoice_out_of_what_is_owed(api, url, customer, invoice):
    c = customer()
    inv = invoice(c["id"], amount=1000)

    voided = api.post(url(f"/invoices/{inv['id']}/void")).json()

    assert voided["status"] == "voided"
    assert summary(api, url, c["id"])["outstanding"] == {}


def test_twenty_concurrent_payments_leave_the_exact_balance(api, url, customer, invoice, runtime):
    c = customer()
    inv = invoice(c["id"], amount=100000)

    def one(index):
        allocations = [(inv["id"], 1000)] if index % 2 else []
        return pay(api, url, c["id"], 1000, allocations).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(one, range(20)))

    assert statuses == [201] * 20
    read = summary(api, url, c["id"])
    assert read["outstanding"] == {"USD": 100000 - 20 * 1000}
    assert api.get(url(f"/invoices/{inv['id']}")).json()["paidAmount"] == 10 * 1000
    stored = customer_store.get_customer(runtime.session["organization"]["id"], c["id"])
    assert stored["credit"] == {"USD": 10 * 1000}


def test_lists_page_with_an_opaque_cursor(api, url, customer, invoice):
    c = customer()
    for n in range(5):
        invoice(c["id"], number=f"P-{n}", issuedAt=f"2026-01-0{n + 1}")

    first = api.get(url("/invoices"), params={"customerId": c["id"], "limit": 2}).json()
    second = api.get(url("/invoices"), params={"customerId": c["id"], "limit": 2, "cursor": first["nextCursor"]}).json()
    bad = api.get(url("/invoices"), params={"customerId": c["id"], "cursor": "garbage!"})

    assert [i["number"] for i in first["items"] + second["items"]] == ["P-4", "P-3", "P-2", "P-1"]
    assert bad.status_code == 422 and "cursor" in bad.json()["error"]["fields"]


# ---------------------------------------------------------------- contacts and positions


def test_contacts_have_one_main_contact_and_a_position(api, url, customer):
    c = customer()
    positions = {p["name"]: p["id"] for p in api.get(url("/positions")).json()["items"]}
    first = api.post(url(f"/customers/{c['id']}/contacts"), json={"email": "ap@globex.example"}).json()
    second = api.post(
        url(f"/customers/{c['id']}/contacts"),
        json={"email": "buyer@globex.example", "positionId": positions["Purchaser"], "isMain": True},
    ).json()
    bad = api.post(url(f"/customers/{c['id']}/contacts"), json={"email": "not-an-email", "positionId": "pos_x"})

    contacts = {x["email"]: x for x in api.get(url(f"/customers/{c['id']}/contacts")).json()["items"]}
    assert set(positions) >= {"Accountant", "Payer", "Purchaser", "Sales"}
    assert first["isMain"] is True and second["isMain"] is True
    assert contacts["ap@globex.example"]["isMain"] is False
    assert summary(api, url, c["id"])["mainContactId"] == second["id"]
    assert bad.status_code == 422 and "email" in bad.json()["error"]["fields"]


def test_deleting_a_position_moves_or_clears_its_contacts(api, url, customer):
    c = customer()
    temp = api.post(url("/positions"), json={"name": "Temporary"}).json()
    keep = api.post(url("/positions"), json={"name": "Keeper"}).json()
    contact = api.post(
        url(f"/customers/{c['id']}/contacts"), json={"email": "x@y.example", "positionId": temp["id"]}
    ).json()

    moved = api.delete(url(f"/positions/{temp['id']}"), params={"moveTo": keep["id"]})
    renamed = api.patch(url(f"/positions/{keep['id']}"), json={"name": "Kept"}).json()

    assert moved.status_code == 204
    assert api.get(url(f"/contacts/{contact['id']}")).json()["positionId"] == keep["id"]
    assert renamed["name"] == "Kept"
    api.delete(url(f"/positions/{keep['id']}"))
    assert api.get(url(f"/contacts/{contact['id']}")).json()["positionId"] is None


# ---------------------------------------------------------------- access


@pytest.fixture
def people(api, url, runtime):
    """Two account managers of the demo organization with their ID tokens."""
    from relance import aws

    def token(email: str) -> str:
        answer = aws.client("cognito-idp").admin_initiate_auth(
            UserPoolId=runtime.template.physical_ids["UserPool"],
            ClientId=runtime.template.physical_ids["UserPoolClient"],
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": "Relance-Test-1"},
        )
        return answer["AuthenticationResult"]["IdToken"]

    made = {}
    for name in ("ann", "bob"):
        from relance.domain.organizations import Principal
        from relance.domain.users import UserFields
        from relance.services.users import create_user

        admin = Principal(organization_id=runtime.session["organization"]["id"], role="admin", principal_id="test")
        email = f"{name}.{id(made)}@demo.example"
        user = create_user(
            admin,
            UserFields(email=email, name=name.title(), role="account_manager"),
            password="Relance-Test-1",
        )
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token(email)}"
        made[name] = (user, session)
    return made


def test_account_manager_sees_only_their_customers(api, url, customer, invoice, people):
    ann, ann_api = people["ann"]
    _, bob_api = people["bob"]
    mine = customer(name="Ann's account", accountManagerIds=[ann.id])
    inv = invoice(mine["id"])
    contact = api.post(url(f"/customers/{mine['id']}/contacts"), json={"email": "ap@ann.example"}).json()

    assert ann_api.get(url(f"/customers/{mine['id']}")).status_code == 200
    assert [c["id"] for c in ann_api.get(url("/customers"), params={"limit": 200}).json()["items"]] == [mine["id"]]
    for path in (
        f"/customers/{mine['id']}",
        f"/invoices/{inv['id']}",
        f"/contacts/{contact['id']}",
        f"/customers/{mine['id']}/contacts",
    ):
        response = bob_api.get(url(path))
        assert response.status_code == 404, path
    assert mine["id"] not in [c["id"] for c in bob_api.get(url("/customers")).json()["items"]]


def test_account_manager_cannot_administer(url, people):
    _, ann_api = people["ann"]

    response = ann_api.post(url("/customers"), json={"name": "Sneaky"})

    assert response.status_code == 403


def test_forged_or_foreign_tokens_are_refused(url, people, runtime):
    _, ann_api = people["ann"]
    token = ann_api.headers["Authorization"].split()[1]
    header, payload, signature = token.split(".")

    forged = requests.get(url("/customers"), headers={"Authorization": f"Bearer {header}.{payload}.{signature[::-1]}"})

    assert forged.status_code == 401


def test_organizations_never_see_each_other(api, url, customer):
    from relance.services.organization_admin import create_organization

    _, other_key = create_organization("Elsewhere Inc")
    mine = customer()

    other = requests.get(url(f"/customers/{mine['id']}"), headers={"X-Api-Key": other_key})
    listed = requests.get(url("/customers"), headers={"X-Api-Key": other_key}).json()

    assert other.status_code == 404
    assert listed["items"] == []


def test_api_keys_are_shown_once_and_can_be_revoked(api, url):
    created = api.post(url("/api-keys"), json={"name": "ERP sync"}).json()
    listed = api.get(url("/api-keys")).json()["items"]

    works = requests.get(url("/me"), headers={"X-Api-Key": created["key"]})
    api.delete(url(f"/api-keys/{created['id']}"))
    revoked = requests.get(url("/me"), headers={"X-Api-Key": created["key"]})

    assert created["key"].startswith("rk_")
    assert all(k.get("key") is None for k in listed)
    assert works.status_code == 200 and revoked.status_code == 401


# ---------------------------------------------------------------- list filters


def test_list_filters_and_sorts(api, url, customer, invoice):
    tag = f"t{id(api)}"
    a = customer(name="Alpha Filter", tags=[tag])
    b = customer(name="Beta Filter", tags=[tag])
    customer(name="Gamma Filter", tags=[tag])
    invoice(a["id"], amount=500, due="2020-01-01", issuedAt="2019-12-01")
    invoice(b["id"], amount=9000, due="2099-01-01")

    def names(**params):
        page = api.get(url("/customers"), params={"tag": tag, **params}).json()
        return [c["name"] for c in page["items"]]

    assert names() == ["Alpha Filter", "Beta Filter", "Gamma Filter"]
    assert names(sort="-outstanding") == ["Beta Filter", "Alpha Filter", "Gamma Filter"]
    assert names(overdue="true") == ["Alpha Filter"]
    assert names(outstandingMin=1000) == ["Beta Filter"]
    assert names(q="gam") == ["Gamma Filter"]
    bad = api.get(url("/customers"), params={"sort": "shoe-size"})
    assert bad.status_code == 422 and "sort" in bad.json()["error"]["fields"]


# ---------------------------------------------------------------- documents, settings, users, custom fields


def test_invoice_pdf_is_uploaded_and_downloaded_through_presigned_urls(api, url, customer, invoice):
    inv = invoice(customer()["id"])
    pdf = b"%PDF-1.4 invoice INV-1"

    assert api.get(url(f"/invoices/{inv['id']}/pdf")).status_code == 404
    upload = api.post(url(f"/invoices/{inv['id']}/pdf")).json()
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": ("inv.pdf", pdf, "application/pdf")})
    link = api.get(url(f"/invoices/{inv['id']}/pdf")).json()

    assert sent.status_code in (200, 204)
    assert requests.get(link["url"]).content == pdf
    assert api.get(url(f"/invoices/{inv['id']}")).json()["hasPdf"] is True


def test_organization_chooses_the_overdue_aware_rating(api, url, customer, invoice):
    c = customer()
    paid = invoice(c["id"], amount=10000, number="R-1", due="2026-01-31")
    invoice(c["id"], amount=10000, number="R-2", due="2025-01-31", issuedAt="2025-01-01")
    settings = api.get(url("/organization")).json()["settings"]

    changed = api.put(url("/organization/settings"), json={**settings, "ratingBasis": "overdue_aware"})
    pay(api, url, c["id"], 10000, [(paid["id"], 10000)], received="2026-01-31")
    api.put(url("/organization/settings"), json=settings)
    refused = api.put(url("/organization/settings"), json={**settings, "portalLinkValidityDays": 0})

    assert changed.json()["settings"]["ratingBasis"] == "overdue_aware"
    read = summary(api, url, c["id"])
    assert read["averagePaymentDelayDays"] == 0
    assert read["overdueAwareDelayDays"] > 90 and read["rating"] == "D"
    assert read["ratingDrivers"][0]["number"] == "R-2"
    assert refused.status_code == 422 and "portalLinkValidityDays" in refused.json()["error"]["fields"]


def test_users_are_created_changed_and_refused_clearly(api, url):
    email = f"new.user.{id(api)}@demo.example"

    created = api.post(url("/users"), json={"email": email, "name": "New User", "role": "account_manager"})
    duplicate = api.post(url("/users"), json={"email": email, "name": "Again", "role": "admin"})
    bad = api.post(url("/users"), json={"email": "nope", "name": "", "role": "boss"})
    promoted = api.patch(url(f"/users/{created.json()['id']}"), json={"role": "admin", "initials": "NU"})

    assert created.status_code == 201 and created.json()["initials"] == "NU"
    assert duplicate.status_code == 409 and duplicate.json()["error"]["fields"] == {"email": "already used"}
    assert bad.status_code == 422 and {"email", "name", "role"} <= set(bad.json()["error"]["fields"])
    assert promoted.json()["role"] == "admin"
    assert email in [u["email"] for u in api.get(url("/users")).json()["items"]]


def test_custom_field_values_follow_their_definition(api, url, customer):
    api.post(url("/custom-fields"), json={"key": "employees", "label": "Employees", "type": "number"})
    bad_definition = api.post(url("/custom-fields"), json={"key": "Tier", "label": "Tier", "type": "select"})

    good = api.post(url("/customers"), json={"name": "Counted", "customFields": {"employees": 42}})
    wrong = api.post(url("/customers"), json={"name": "Miscounted", "customFields": {"employees": "many"}})
    unknown = api.post(url("/customers"), json={"name": "Unknown", "customFields": {"shoe": "42"}})

    assert bad_definition.status_code == 422
    assert good.status_code == 201 and good.json()["customFields"] == {"employees": 42}
    assert wrong.json()["error"]["fields"] == {"customFields.employees": "must be a whole number"}
    assert unknown.json()["error"]["fields"] == {"customFields.shoe": "no such custom field"}
    filtered = api.get(url("/customers"), params={"customField": "employees:42"}).json()["items"]
    assert [c["name"] for c in filtered] == ["Counted"]


def test_invoice_edits_keep_the_ledger_consistent(api, url, customer, invoice):
    c = customer()
    inv = invoice(c["id"], amount=10000)
    pay(api, url, c["id"], 6000, [(inv["id"], 6000)])

    too_low = api.patch(url(f"/invoices/{inv['id']}"), json={"amount": 5000})
    exact = api.patch(url(f"/invoices/{inv['id']}"), json={"amount": 6000, "dueAt": "2026-02-15"}).json()
    void_paid = api.post(url(f"/invoices/{inv['id']}/void"))

    assert too_low.status_code == 422 and too_low.json()["error"]["fields"] == {"amount": "at least 6000"}
    assert (exact["status"], exact["outstanding"]) == ("paid", 0)
    assert summary(api, url, c["id"])["outstanding"] == {}
    assert void_paid.status_code == 422


def test_money_records_are_listed_and_read_per_customer(api, url, customer, invoice):
    c = customer()
    inv = invoice(c["id"], amount=5000)
    payment = pay(api, url, c["id"], 7000, [(inv["id"], 5000)]).json()
    note = api.post(
        url("/credit-notes"), json={"customerId": c["id"], "amount": 300, "currency": "USD", "issuedAt": "2026-02-02"}
    ).json()
    api.post(
        url("/refunds"), json={"customerId": c["id"], "amount": 2000, "currency": "USD", "refundedAt": "2026-02-03"}
    )

    payments = api.get(url("/payments"), params={"customerId": c["id"]}).json()["items"]
    notes = api.get(url("/credit-notes"), params={"customerId": c["id"]}).json()["items"]
    refunds = api.get(url("/refunds"), params={"customerId": c["id"]}).json()["items"]

    assert [p["id"] for p in payments] == [payment["id"]] and payments[0]["unapplied"] == 2000
    assert api.get(url(f"/payments/{payment['id']}")).json()["allocations"] == [
        {"invoiceId": inv["id"], "amount": 5000}
    ]
    assert api.get(url(f"/credit-notes/{note['id']}")).json()["amount"] == 300
    assert [r["amount"] for r in refunds] == [2000] and [n["id"] for n in notes] == [note["id"]]
    assert api.get(url("/payments/pay_unknown")).status_code == 404
    missing = api.get(url("/payments"))
    assert missing.status_code == 422 and "customerId" in missing.json()["error"]["fields"]


def test_contacts_are_changed_validated_again_and_deleted(api, url, customer, runtime):
    c = customer()
    first = api.post(url(f"/customers/{c['id']}/contacts"), json={"email": "a@x.example"}).json()
    second = api.post(url(f"/customers/{c['id']}/contacts"), json={"email": "b@x.example"}).json()
    from relance.storage import contacts as contact_store

    org = runtime.session["organization"]["id"]
    stored = contact_store.get_contact(org, second["id"])
    contact_store.save_contact(org, {**stored, "invalid": True, "invalidSince": "2026-02-01T00:00:00+00:00"})

    valid = api.post(url(f"/contacts/{second['id']}/mark-valid")).json()
    changed = api.patch(url(f"/contacts/{second['id']}"), json={"phone": "+33 1 23 45 67 89", "isMain": True}).json()
    bad = api.patch(url(f"/contacts/{second['id']}"), json={"email": None})
    deleted = api.delete(url(f"/contacts/{second['id']}"))

    assert (valid["invalid"], valid["invalidSince"]) == (False, None)
    assert changed["isMain"] is True and changed["phone"] == "+33 1 23 45 67 89"
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"email": "required"}
    assert deleted.status_code == 204
    assert summary(api, url, c["id"])["mainContactId"] == first["id"]  # the main contact passes on


def test_users_and_custom_fields_are_read_and_removed(api, url):
    user = api.post(url("/users"), json={"email": f"gone.{id(url)}@demo.example", "name": "Gone Soon", "role": "admin"})
    api.post(url("/custom-fields"), json={"key": "obsolete", "label": "Obsolete", "type": "text"})

    read = api.get(url(f"/users/{user.json()['id']}")).json()
    removed_user = api.delete(url(f"/users/{read['id']}"))
    removed_field = api.delete(url("/custom-fields/obsolete"))

    assert read["name"] == "Gone Soon"
    assert removed_user.status_code == 204 and api.get(url(f"/users/{read['id']}")).status_code == 404
    assert removed_field.status_code == 204
    assert "obsolete" not in [f["key"] for f in api.get(url("/custom-fields")).json()["items"]]
