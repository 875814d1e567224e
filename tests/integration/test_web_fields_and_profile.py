"""Positions and custom fields (admins), and each person's own profile, through the web app."""

from __future__ import annotations

import requests
from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.customers import ContactFields, PositionFields
from relance.domain.users import UserPatch
from relance.domain.workflows import ActionType, Step, WorkflowFields
from relance.services import contacts, custom_fields, customers, users, workflows, workspace
from relance.services.customers import CustomerFilter
from tests.integration.test_web_customers import admin_principal, signed_in
from tests.integration.web import Browser, text_of

FIELDS = "/settings/fields"


def send(browser: Browser, url: str, **fields: str | list[str]) -> requests.Response:
    page = browser.get(url)
    return browser.post(url, {"csrf": browser.csrf(page), **fields}, follow=False)


def positions(demo: LocalRuntime) -> dict[str, str]:
    return {p.name: p.id for p in workspace.directory(admin_principal(demo)).positions}


def test_an_admin_adds_renames_and_deletes_a_position_moving_its_contacts(demo):
    admin, _ = signed_in(demo, "admin")
    principal = admin_principal(demo)

    added = send(admin, FIELDS, do="add-position", positionName="Treasurer")
    treasurer = positions(demo)["Treasurer"]
    renamed = send(admin, FIELDS, do="rename-position", position=treasurer, positionName="Head of treasury")
    customer = customers.matching_customers(principal, CustomerFilter())[0]
    contact = contacts.create_contact(
        principal, customer.id, ContactFields(email="treasury@example.com", first_name="Tess", position_id=treasurer)
    )
    target = positions(demo)["Accountant"]
    deleted = send(admin, FIELDS, do="delete-position", position=treasurer, moveTo=target)

    assert [r.status_code for r in (added, renamed, deleted)] == [303, 303, 303]
    assert "Head of treasury" not in positions(demo) and treasurer not in positions(demo).values()
    assert deleted.headers["Location"] == f"{FIELDS}?moved=1"
    moved = next(c for c in contacts.list_contacts(principal, customer.id) if c.id == contact.id)
    assert moved.position_id == target
    assert "1 contact(s) moved" in text_of(admin.get(deleted.headers["Location"]))


def test_refusals_name_the_field_and_a_position_a_workflow_sends_to_stays(demo):
    admin, _ = signed_in(demo, "admin")
    manager, _ = signed_in(demo, "account_manager")
    principal = admin_principal(demo)
    billing = contacts.create_position(principal, PositionFields(name="Billing desk"))
    step = Step(id="mail", offset_days=0, action=ActionType.EMAIL, to=[billing.id])
    workflows.create_workflow(principal, WorkflowFields(name="To the billing desk", steps=[step]))

    empty = send(admin, FIELDS, do="add-position", positionName="")
    kept = send(admin, FIELDS, do="delete-position", position=billing.id)
    bad_key = send(admin, FIELDS, do="save-field", key="Not A Key", label="Region", type="text")
    no_options = send(admin, FIELDS, do="save-field", key="tier", label="Tier", type="select", options="")

    assert manager.get(FIELDS).status_code == 403
    assert empty.status_code == 422
    assert BeautifulSoup(empty.text, "html.parser").select_one("#f-positionName.is-invalid")
    assert kept.status_code == 409 and "To the billing desk" in text_of(kept) and billing.id in positions(demo).values()
    assert bad_key.status_code == 422 and BeautifulSoup(bad_key.text, "html.parser").select_one("#f-key.is-invalid")
    assert no_options.status_code == 422 and "options are required" in text_of(no_options)


def test_an_admin_adds_and_deletes_a_custom_field(demo):
    admin, _ = signed_in(demo, "admin")
    org_id = demo.session["organization"]["id"]

    saved = send(admin, FIELDS, do="save-field", key="tier", label="Tier", type="select", options="Gold\n\nSilver\n")
    defined = {d.key: d for d in custom_fields.list_definitions(org_id)}
    listed = admin.get("/customers")
    deleted = send(admin, FIELDS, do="delete-field", key="tier")

    assert saved.status_code == deleted.status_code == 303
    assert defined["tier"].options == ["Gold", "Silver"] and defined["tier"].label == "Tier"
    assert "Tier" in listed.text  # a column and a filter of the list
    assert "tier" not in {d.key for d in custom_fields.list_definitions(org_id)}


def test_a_person_sets_their_own_profile_channels_and_signature(demo):
    manager, person = signed_in(demo, "account_manager")
    me = next(u for u in users.list_users(admin_principal(demo)) if u.email == person["email"])
    try:
        slack_without_hook = send(
            manager, "/profile", name=me.name, initials=me.initials, notificationChannels=["slack"]
        )
        saved = send(
            manager,
            "/profile",
            name="Marc D.",
            initials="md",
            notificationChannels=["in_app", "slack"],
            slackWebhookUrl="https://hooks.slack.com/services/T0/B0/x",
            signature="Marc D.\nAccounts receivable",
        )
        after = users.get_user(admin_principal(demo), me.id)
    finally:
        back = UserPatch(name=me.name, initials=me.initials, notification_channels=me.notification_channels)
        users.update_user(admin_principal(demo), me.id, back.model_copy(update={"signature": me.signature}))

    assert slack_without_hook.status_code == 422 and "slackWebhookUrl" in slack_without_hook.text
    assert saved.status_code == 303 and saved.headers["Location"] == "/profile?saved=1"
    assert (after.name, after.initials, after.role) == ("Marc D.", "MD", me.role)
    assert [c.value for c in after.notification_channels] == ["in_app", "slack"]
    assert after.signature == "Marc D.\nAccounts receivable"
    assert BeautifulSoup(manager.get("/customers").text, "html.parser").find("a", href="/profile")
