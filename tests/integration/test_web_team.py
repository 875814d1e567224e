"""The team page (admins): invite, change a role, send an invitation again, remove; API keys created
with their secret shown once, and revoked."""

from __future__ import annotations

import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.organizations import Principal
from relance.domain.users import Role, UserFields
from relance.services import users
from relance.services.organization_admin import create_organization
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import Browser, text_of

TEAM = "/settings/team"


def send(browser: Browser, **fields: str) -> requests.Response:
    page = browser.get(TEAM)
    return browser.post(TEAM, {"csrf": browser.csrf(page), **fields}, follow=False)


def person_named(demo: LocalRuntime, email: str):
    return next((u for u in users.list_users(admin_principal(demo)) if u.email == email), None)


def test_only_admins_see_the_team(demo):
    manager, _ = signed_in(demo, "account_manager")
    admin, person = signed_in(demo, "admin")

    shown = admin.get(TEAM)

    assert manager.get(TEAM).status_code == 403
    assert shown.status_code == 200 and person["email"] in shown.text
    assert shown.headers["Cache-Control"].startswith("no-store")
    assert admin.post(TEAM, {"do": "invite", "email": "x@example.com", "name": "X"}).status_code == 403  # no CSRF


def test_an_admin_invites_changes_the_role_resends_and_removes(demo):
    admin, _ = signed_in(demo, "admin")

    invited = send(admin, do="invite", email="Nora.New@Example.com", name="Nora New", role="account_manager")
    nora = person_named(demo, "nora.new@example.com")
    manager = person_named(demo, next(u for u in demo.session["users"] if u["role"] == "account_manager")["email"])
    rows = BeautifulSoup(admin.get(TEAM).text, "html.parser")
    waits, signed_in_already = rows.select_one(f"#user-{nora.id}"), rows.select_one(f"#user-{manager.id}")
    assert "not signed in yet" in waits.get_text() and waits.find("button", value="resend")
    assert "not signed in yet" not in signed_in_already.get_text()
    assert signed_in_already.find("button", value="resend") is None
    changed = send(admin, do="role", user=nora.id, role="admin")
    resent = send(admin, do="resend", user=nora.id)  # she has not signed in yet
    removed = send(admin, do="remove", user=nora.id)

    assert [r.status_code for r in (invited, changed, resent, removed)] == [303] * 4
    assert invited.headers["Location"] == f"{TEAM}?done=invited"
    assert "Invitation sent again." in text_of(admin.get(resent.headers["Location"]))
    assert person_named(demo, "nora.new@example.com") is None


def test_refusals_name_what_is_wrong_and_change_nothing(demo):
    admin, me = signed_in(demo, "admin")
    manager = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    signed_up = person_named(demo, manager["email"])
    myself = person_named(demo, me["email"])

    bad_address = send(admin, do="invite", email="not-an-address", name="Someone", role="account_manager")
    again = send(admin, do="invite", email=manager["email"], name="Again", role="admin")
    resend_signed_in = send(admin, do="resend", user=signed_up.id)
    remove_myself = send(admin, do="remove", user=myself.id)
    unknown = send(admin, do="role", user="usr_nobody", role="admin")

    assert bad_address.status_code == 422
    field = BeautifulSoup(bad_address.text, "html.parser").find(id="f-email")
    assert "is-invalid" in field["class"] and field["value"] == "not-an-address"
    assert again.status_code == 409 and "already a user" in text_of(again)
    assert resend_signed_in.status_code == 409 and "already signed in" in text_of(resend_signed_in)
    assert remove_myself.status_code == 422 and person_named(demo, me["email"]) is not None
    assert unknown.status_code == 404
    assert person_named(demo, manager["email"]).role == Role.ACCOUNT_MANAGER


def test_an_api_key_is_shown_once_works_and_stops_working_when_revoked(demo):
    admin, _ = signed_in(demo, "admin")

    created = send(admin, do="create-key", keyName="Billing sync")
    secret = BeautifulSoup(created.text, "html.parser").find(id="new-key")["value"]
    listed = admin.get(TEAM)
    key_id = next(k.id for k in users.list_api_keys(admin_principal(demo)) if k.name == "Billing sync")
    before = requests.get(f"{demo.base_url}/v1/customers", headers={"X-Api-Key": secret}, timeout=30)
    revoked = send(admin, do="revoke-key", key=key_id)
    after = requests.get(f"{demo.base_url}/v1/customers", headers={"X-Api-Key": secret}, timeout=30)

    assert created.status_code == 200 and created.headers["Cache-Control"].startswith("no-store")
    assert secret and secret not in listed.text and "Billing sync" in listed.text
    assert before.status_code == 200 and revoked.status_code == 303 and after.status_code in (401, 403)
    assert send(admin, do="create-key", keyName="").status_code == 422


def test_a_person_of_another_organization_is_invited_to_move_and_can_be_reminded(demo):
    admin, _ = signed_in(demo, "admin")
    elsewhere, _ = create_organization("Elsewhere Ltd")
    theirs = Principal(organization_id=elsewhere.id, role="admin", principal_id="test")
    users.create_user(theirs, UserFields(email="twin@example.org", name="Twin", role=Role.ADMIN))

    invited = send(admin, do="invite", email="twin@example.org", name="Twin", role="account_manager")
    waiting = person_named(demo, "twin@example.org")

    assert invited.status_code == 303 and waiting is not None  # answered as any new address
    assert send(admin, do="resend", user=waiting.id).status_code == 303  # the invitation to move, again
