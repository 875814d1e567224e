"""What an account manager may do, through the local runtime: read their customers, no more.

Unmatched mail is the admins' to triage; a note mentions only people who see its customer, and
a task goes only to one of them; account managers read contacts, do not resolve disputes, and
see and change only the saved views they saved themselves, see the ones an admin shared, and share none.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import requests

from relance import aws, clock
from relance.domain.inbound import inbound_address
from relance.domain.organizations import Principal
from relance.domain.users import UserFields
from relance.services import inbound
from relance.services.notifications import list_notifications
from relance.services.users import create_user
from relance.settings import get_settings
from relance.storage import keys
from relance.storage.table import table

PASSWORD = "Relance-Test-1"


def signed_in(
    runtime: Any, role: str = "account_manager", name: str = "Ann"
) -> tuple[dict[str, Any], requests.Session]:
    """A new person of the runtime's organization with ``role``, and an HTTP session signed in as them."""
    org_id = runtime.session["organization"]["id"]
    admin = Principal(organization_id=org_id, role="admin", principal_id="test")
    email = f"{name.split(maxsplit=1)[0].lower()}.{uuid.uuid4().hex[:8]}@scope.example"
    user = create_user(admin, UserFields(email=email, name=name, role=role), password=PASSWORD)
    answer = aws.client("cognito-idp").admin_initiate_auth(
        UserPoolId=runtime.template.physical_ids["UserPool"],
        ClientId=runtime.template.physical_ids["UserPoolClient"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer['AuthenticationResult']['IdToken']}"
    return user.model_dump(mode="json", by_alias=True), session


def notifications_of(runtime: Any, user_id: str) -> list[dict[str, Any]]:
    me = Principal(
        organization_id=runtime.session["organization"]["id"],
        role="account_manager",
        principal_id=f"user:{user_id}",
        user_id=user_id,
    )
    return list_notifications(me)["items"]


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.fixture
def ann(runtime):
    return signed_in(runtime, name="Ann")


@pytest.fixture
def bob(runtime):
    return signed_in(runtime, name="Bob")


@pytest.fixture
def customer_of(api, url):
    """A customer (with one contact and one open invoice) managed by the given account managers."""

    def make(*managers: dict[str, Any], name: str = "Scoped Ltd") -> dict[str, Any]:
        body = {"name": name, "currency": "EUR", "accountManagerIds": [m["id"] for m in managers]}
        customer = api.post(url("/customers"), json=body)
        assert customer.status_code == 201, customer.text
        made = customer.json()
        contact = api.post(
            url(f"/customers/{made['id']}/contacts"), json={"email": f"ap.{uuid.uuid4().hex[:8]}@scoped.example"}
        )
        assert contact.status_code == 201, contact.text
        today = clock.now().date()
        invoice = api.post(
            url("/invoices"),
            json={
                "customerId": made["id"],
                "number": "SC-1",
                "currency": "EUR",
                "amount": 10_000,
                "issuedAt": str(today - timedelta(days=30)),
                "dueAt": str(today - timedelta(days=5)),
            },
        )
        assert invoice.status_code == 201, invoice.text
        return {**made, "contact": contact.json(), "invoice": invoice.json()}

    return make


# ---------------------------------------------------------------- unmatched replies


def unmatched_reply(runtime: Any, api: requests.Session, url: Any, customer_of: Any) -> dict[str, Any]:
    """A reply the organization received but could not tie to one customer: its sender is a
    contact of two of them."""
    sender = f"shared.{uuid.uuid4().hex[:8]}@twice.example"
    for name in ("Twin One", "Twin Two"):
        made = customer_of(name=name)
        assert api.post(url(f"/customers/{made['id']}/contacts"), json={"email": sender}).status_code == 201
    message = EmailMessage()
    address = inbound_address(runtime.session["organization"]["id"], get_settings().reply_domain)
    message["From"], message["To"], message["Subject"] = sender, address, "Which invoice?"
    message.set_content("Which of our accounts is this about?")
    bucket, key = runtime.template.name_of("InboundMailBucket"), f"inbound/{uuid.uuid4().hex}"
    aws.client("s3").put_object(Bucket=bucket, Key=key, Body=message.as_bytes())
    [reply] = inbound.receive(bucket, key, [address])  # delivered to the organization's inbound address
    assert reply["status"] == "unmatched", reply
    return reply


def test_unmatched_replies_are_listed_read_and_assigned_by_admins_only(runtime, api, url, customer_of, ann):
    reply = unmatched_reply(runtime, api, url, customer_of)
    manager, ann_api = ann
    mine = customer_of(manager, name="Ann's own")

    listed = ann_api.get(url("/replies/unmatched"))
    read = ann_api.get(url(f"/replies/{reply['id']}"))
    assigned = ann_api.post(url(f"/replies/{reply['id']}/assign"), json={"customerId": mine["id"]})

    assert listed.status_code == 403, listed.text
    assert read.status_code == 404 and read.json()["error"]["code"] == "not_found"
    assert read.json() == ann_api.get(url("/replies/rpl_00000000000000000000000000")).json()  # as if absent
    assert assigned.status_code == 403, assigned.text
    assert [
        e for e in ann_api.get(url(f"/customers/{mine['id']}/timeline")).json()["items"] if e["kind"] == "reply_in"
    ] == []
    assert reply["id"] in [r["id"] for r in api.get(url("/replies/unmatched")).json()["items"]]  # still unmatched
    assert api.get(url(f"/replies/{reply['id']}")).status_code == 200


# ---------------------------------------------------------------- mentions


def test_a_mention_of_someone_who_cannot_see_the_customer_is_refused_and_nothing_is_written(
    api, url, customer_of, ann, bob, runtime
):
    manager, _ = ann
    outsider, _ = bob
    customer = customer_of(manager)
    admin, _ = signed_in(runtime, role="admin", name="Ada")

    refused = api.post(url(f"/customers/{customer['id']}/notes"), json={"body": f"@{outsider['id']} look at this"})

    assert refused.status_code == 422, refused.text
    assert outsider["id"] in refused.json()["error"]["fields"]["body"]
    assert api.get(url(f"/customers/{customer['id']}/notes")).json()["items"] == []
    assert notifications_of(runtime, outsider["id"]) == []

    allowed = api.post(
        url(f"/customers/{customer['id']}/notes"), json={"body": f"@{manager['id']} @{admin['id']} look at this"}
    )
    assert allowed.status_code == 201, allowed.text
    note = allowed.json()
    assert note["mentions"] == [manager["id"], admin["id"]]

    edited = api.patch(url(f"/notes/{note['id']}"), json={"body": f"@{manager['id']} and @{outsider['id']}"})

    assert edited.status_code == 422 and "body" in edited.json()["error"]["fields"]
    assert api.get(url(f"/notes/{note['id']}")).json()["body"] == note["body"]
    assert notifications_of(runtime, outsider["id"]) == []
    assert [n["kind"] for n in notifications_of(runtime, manager["id"])] == ["mention"]


def test_a_task_goes_only_to_someone_who_sees_its_customer(api, url, customer_of, ann, bob):
    manager, _ = ann
    outsider, _ = bob
    customer = customer_of(manager)

    to_outsider = api.post(
        url("/actions"), json={"customerId": customer["id"], "type": "task", "owner": outsider["id"]}
    )
    to_nobody = api.post(
        url("/actions"), json={"customerId": customer["id"], "type": "call", "owner": "usr_00000000000000000000000000"}
    )
    email_owner = api.post(
        url("/actions"), json={"customerId": customer["id"], "type": "email", "owner": manager["id"]}
    )

    for refused in (to_outsider, to_nobody, email_owner):
        assert refused.status_code == 422, refused.text
        assert "owner" in refused.json()["error"]["fields"]
    assert api.get(url(f"/customers/{customer['id']}/actions")).json()["items"] == []
    assigned = api.post(url("/actions"), json={"customerId": customer["id"], "type": "task", "owner": manager["id"]})
    assert assigned.status_code == 201 and assigned.json()["owner"] == manager["id"]


# ---------------------------------------------------------------- contacts, disputes


def test_account_managers_read_contacts_but_do_not_change_them(api, url, customer_of, ann):
    manager, ann_api = ann
    customer = customer_of(manager)
    contact = customer["contact"]

    attempts = [
        ann_api.post(url(f"/customers/{customer['id']}/contacts"), json={"email": "new@scoped.example"}),
        ann_api.patch(url(f"/contacts/{contact['id']}"), json={"email": "changed@scoped.example"}),
        ann_api.post(url(f"/contacts/{contact['id']}/mark-valid")),
        ann_api.delete(url(f"/contacts/{contact['id']}")),
    ]

    assert [a.status_code for a in attempts] == [403, 403, 403, 403], [a.text for a in attempts]
    assert ann_api.get(url(f"/contacts/{contact['id']}")).json() == contact
    assert [c["id"] for c in ann_api.get(url(f"/customers/{customer['id']}/contacts")).json()["items"]] == [
        contact["id"]
    ]


def test_only_admins_resolve_a_dispute(api, url, customer_of, ann):
    manager, ann_api = ann
    customer = customer_of(manager)
    invoice = customer["invoice"]
    link = api.post(url(f"/customers/{customer['id']}/portal-link"), json={}).json()["url"]
    disputed = requests.post(f"{link}/disputes", data={"invoiceId": invoice["id"], "reason": "Wrong amount"})
    assert disputed.status_code in (200, 303), disputed.text

    refused = ann_api.post(url(f"/invoices/{invoice['id']}/resolve-dispute"), json={})

    assert refused.status_code == 403, refused.text
    assert ann_api.get(url(f"/invoices/{invoice['id']}")).json()["disputed"]["reason"] == "Wrong amount"
    resolved = api.post(url(f"/invoices/{invoice['id']}/resolve-dispute"), json={})
    assert resolved.status_code == 200 and resolved.json()["disputed"] is None


# ---------------------------------------------------------------- saved views


def test_a_saved_view_is_changed_only_by_who_saved_it_or_an_admin(runtime, api, url, ann, bob):
    _, ann_api = ann
    _, bob_api = bob
    _, other_admin_api = signed_in(runtime, role="admin", name="Ada")
    shared = api.post(url("/views"), json={"name": "Overdue", "filter": {"overdue": True}, "shared": True}).json()

    attempts = [
        ann_api.put(url(f"/views/{shared['id']}"), json={"name": "Mine now", "shared": True}),
        ann_api.delete(url(f"/views/{shared['id']}")),
    ]

    assert [a.status_code for a in attempts] == [403, 403], [a.text for a in attempts]
    assert api.get(url(f"/views/{shared['id']}")).json() == shared
    renamed = other_admin_api.put(url(f"/views/{shared['id']}"), json={"name": "Late", "shared": True})
    assert renamed.status_code == 200 and renamed.json()["owner"] == shared["owner"]  # still the key's

    own = ann_api.post(url("/views"), json={"name": "Ann's"}).json()
    assert (
        ann_api.put(url(f"/views/{own['id']}"), json={"name": "Ann's, sorted", "sort": "-outstanding"}).status_code
        == 200
    )
    assert bob_api.delete(url(f"/views/{own['id']}")).status_code == 404  # not his to see, even less to delete
    assert api.delete(url(f"/views/{own['id']}")).status_code == 404  # private to Ann, admins included
    assert ann_api.get(url(f"/views/{own['id']}")).json()["name"] == "Ann's, sorted"
    assert ann_api.delete(url(f"/views/{own['id']}")).status_code == 204
    assert other_admin_api.delete(url(f"/views/{shared['id']}")).status_code == 204  # an admin tidies up


def marks(session: requests.Session, url: Any, *names: str) -> dict[str, tuple[bool, bool]]:
    """``{name: (mine, shared)}`` of the views named ``names`` that the session lists."""
    listed = session.get(url("/views"))
    assert listed.status_code == 200, listed.text
    return {v["name"]: (v["mine"], v["shared"]) for v in listed.json()["items"] if v["name"] in names}


def test_an_account_manager_sees_their_own_views_and_the_shared_ones_never_anothers_private_one(api, url, ann, bob):
    _, ann_api = ann
    _, bob_api = bob
    mine, theirs = f"Ann's {uuid.uuid4().hex[:6]}", f"Team's {uuid.uuid4().hex[:6]}"
    private = ann_api.post(url("/views"), json={"name": mine, "filter": {"overdue": True}})
    team = api.post(url("/views"), json={"name": theirs, "sort": "-overdue", "shared": True})
    assert (private.status_code, team.status_code) == (201, 201), (private.text, team.text)
    private_id = private.json()["id"]

    assert private.json()["owner"] == f"user:{ann[0]['id']}" and private.json()["shared"] is False
    assert marks(ann_api, url, mine, theirs) == {mine: (True, False), theirs: (False, True)}
    assert marks(bob_api, url, mine, theirs) == {theirs: (False, True)}
    assert marks(api, url, mine, theirs) == {theirs: (True, True)}
    answers = [
        bob_api.get(url(f"/views/{private_id}")),
        bob_api.put(url(f"/views/{private_id}"), json={"name": "Bob's now"}),
        bob_api.delete(url(f"/views/{private_id}")),
        api.get(url(f"/views/{private_id}")),
    ]
    unknown = bob_api.get(url("/views/vw_doesnotexist"))
    assert [a.status_code for a in answers] == [404] * 4, [a.text for a in answers]
    assert {a.json()["error"]["message"] for a in answers} == {unknown.json()["error"]["message"]}  # as if absent
    assert ann_api.get(url(f"/views/{private_id}")).json() == private.json()
    assert bob_api.get(url(f"/views/{team.json()['id']}")).json()["sort"] == "-overdue"

    for session, view_id in ((ann_api, private_id), (api, team.json()["id"])):
        assert session.delete(url(f"/views/{view_id}")).status_code == 204


def test_only_an_admin_shares_a_view(api, url, ann):
    _, ann_api = ann
    tag = uuid.uuid4().hex[:6]
    names = (f"Ann's {tag}", f"For everyone {tag}", f"Admin's {tag}")
    own = ann_api.post(url("/views"), json={"name": names[0]}).json()

    refused = [
        ann_api.post(url("/views"), json={"name": names[1], "shared": True}),
        ann_api.put(url(f"/views/{own['id']}"), json={"name": names[0], "shared": True}),
    ]

    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert "shared" in answer.json()["error"]["fields"]
    assert marks(ann_api, url, *names) == {names[0]: (True, False)}  # nothing written, nothing shared
    made = api.post(url("/views"), json={"name": names[2]}).json()
    assert marks(ann_api, url, *names) == {names[0]: (True, False)}
    shared = api.put(url(f"/views/{made['id']}"), json={"name": names[2], "shared": True})
    assert shared.status_code == 200 and shared.json()["shared"] is True
    assert marks(ann_api, url, *names) == {names[0]: (True, False), names[2]: (False, True)}

    for session, view_id in ((ann_api, own["id"]), (api, made["id"])):
        assert session.delete(url(f"/views/{view_id}")).status_code == 204


def test_a_view_saved_before_views_had_owners_is_shared_and_managed_by_admins(runtime, api, url, ann):
    _, ann_api = ann
    org_id = runtime.session["organization"]["id"]
    view_id, name = f"vw_legacy{uuid.uuid4().hex[:8]}", f"Before owners {uuid.uuid4().hex[:6]}"
    legacy = {
        "id": view_id,
        "name": name,
        "filter": {},
        "sort": "name",
        "columns": [],
        "createdBy": f"user:{ann[0]['id']}",
        "createdAt": "2026-01-05T09:00:00+00:00",
    }
    table().put_item(Item={**keys.view(org_id, view_id), **legacy})

    seen = ann_api.get(url(f"/views/{view_id}"))
    refused = ann_api.delete(url(f"/views/{view_id}"))

    assert seen.status_code == 200 and (seen.json()["owner"], seen.json()["shared"], seen.json()["mine"]) == (
        None,
        True,
        False,
    )
    assert marks(ann_api, url, name) == {name: (False, True)}
    assert refused.status_code == 403, refused.text
    taken = api.put(url(f"/views/{view_id}"), json={"name": name, "shared": True})
    assert taken.status_code == 200 and taken.json()["mine"] and taken.json()["owner"].startswith("apikey:")
    assert api.delete(url(f"/views/{view_id}")).status_code == 204
