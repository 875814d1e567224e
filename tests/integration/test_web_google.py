"""Signing in with Google (the local stand-in) through the same federation path: the pre-sign-up rule."""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.organizations import Principal
from relance.services import organization_admin, organizations, users
from relance.web import session
from tests.integration.web import Browser, text_of


def with_google(demo: LocalRuntime, email: str, next_path: str = "/customers"):
    """Through the managed login's "Continue with Google" and the local Google's page."""
    browser = Browser(demo.base_url)
    login = browser.get(next_path)
    form = BeautifulSoup(login.text, "html.parser").find("input", {"name": "identity_provider"}).find_parent("form")
    params = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    google = browser.get(form["action"], params=params)
    assert urlsplit(google.url).path == "/dev/google/authorize"
    choice = BeautifulSoup(google.text, "html.parser").find("form")
    fields = {i["name"]: i.get("value", "") for i in choice.find_all("input") if i.get("type") == "hidden"}
    return browser, browser.post(choice["action"], {**fields, "email": email})


def test_an_existing_user_signs_in_with_google_as_themselves(demo):
    manager = next(u for u in demo.session["users"] if u["role"] == "account_manager")

    browser, page = with_google(demo, manager["email"])

    assert page.status_code == 200 and urlsplit(page.url).path == "/customers"
    assert manager["email"] in text_of(page) and "Account manager" in text_of(page)
    assert session.ID_COOKIE in browser.cookies
    assert any(name.startswith("Google_") for name in demo.cognito.links)
    _, again = with_google(demo, manager["email"])  # linked now: no second trigger call needed
    assert again.status_code == 200


def test_an_unknown_address_is_refused(demo):
    browser, page = with_google(demo, "stranger@nowhere.example")

    assert page.status_code == 403
    assert "No Relance user has the address stranger@nowhere.example" in text_of(page)
    assert session.ID_COOKIE not in browser.cookies


def test_a_sign_up_domain_lets_a_new_person_join_as_account_manager(demo):
    admin = Principal(organization_id=demo.session["organization"]["id"], role="admin", principal_id="test")
    settings = organizations.get_organization(admin.organization_id).settings
    organization_admin.update_settings(admin, settings.model_copy(update={"sign_up_domains": ["newcomers.example"]}))

    _, page = with_google(demo, "nina@newcomers.example")

    assert page.status_code == 200 and "nina@newcomers.example" in text_of(page)
    joined = next(u for u in users.list_users(admin) if u.email == "nina@newcomers.example")
    assert joined.role.value == "account_manager"


def test_the_trigger_answers_cognitos_event_unchanged_once_linked(demo, sample_event):
    event = sample_event("pre_sign_up/external-provider.json")
    event["userPoolId"] = demo.template.physical_ids["UserPool"]

    answer = demo.functions["PreSignUpFunction"].invoke(event)

    assert answer == event
    assert "Google_104857223301928374650" in demo.cognito.links


def test_people_an_admin_creates_pass_the_trigger_untouched(demo, sample_event):
    event = {**sample_event("pre_sign_up/external-provider.json"), "triggerSource": "PreSignUp_AdminCreateUser"}

    assert demo.functions["PreSignUpFunction"].invoke(event) == event
