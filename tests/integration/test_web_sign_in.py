"""Signing in to the web app through the local managed login: cookies, refresh, sign-out, refusals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from local.runtime import LocalRuntime
from relance.web import session
from tests.integration.web import Browser, text_of


def user(demo: LocalRuntime, role: str) -> dict[str, str]:
    return next(u for u in demo.session["users"] if u["role"] == role)


def test_signing_in_lands_on_the_page_asked_for_with_session_cookies(demo):
    browser = Browser(demo.base_url)
    admin = user(demo, "admin")

    page = browser.sign_in(admin["email"], admin["password"], next_path="/customers?rating=D")

    assert page.status_code == 200
    assert page.url.endswith("/customers?rating=D")
    set_cookies = [r.headers.get("Set-Cookie", "") for r in browser.trail]
    assert any(
        session.ID_COOKIE in c and "HttpOnly" in c and "Secure" in c and "SameSite=Lax" in c for c in set_cookies
    )
    assert session.ID_COOKIE in browser.cookies and session.REFRESH_COOKIE in browser.cookies
    assert session.SIGN_IN_COOKIE not in browser.cookies
    assert admin["email"] in text_of(page)


def test_a_wrong_password_stays_on_the_sign_in_page(demo):
    browser = Browser(demo.base_url)

    page = browser.sign_in(user(demo, "admin")["email"], "not-the-password")

    assert page.status_code == 400
    assert "Incorrect username or password" in page.text
    assert session.ID_COOKIE not in browser.cookies


def test_an_expired_id_token_is_renewed_with_the_refresh_token(demo):
    browser = Browser(demo.base_url)
    manager = user(demo, "account_manager")
    browser.sign_in(manager["email"], manager["password"])
    browser.cookies[session.ID_COOKIE] = "expired.or.tampered"

    page = browser.get("/customers")

    assert page.status_code == 200
    assert browser.cookies[session.ID_COOKIE] != "expired.or.tampered"


def test_signing_out_revokes_the_refresh_token(demo):
    browser = Browser(demo.base_url)
    admin = user(demo, "admin")
    page = browser.sign_in(admin["email"], admin["password"])
    refresh_token = browser.cookies[session.REFRESH_COOKIE]

    out = browser.post("/auth/sign-out", {"csrf": browser.csrf(page)})

    assert out.url.endswith("/auth/signed-out") and "You are signed out" in out.text
    assert session.ID_COOKIE not in browser.cookies and session.REFRESH_COOKIE not in browser.cookies
    assert refresh_token in demo.cognito.revoked
    stolen = Browser(demo.base_url)
    stolen.cookies[session.REFRESH_COOKIE] = refresh_token
    assert urlsplit(stolen.get("/customers").url).path == "/dev/cognito/oauth2/authorize"


def test_a_form_without_the_csrf_token_or_from_another_site_is_refused(demo):
    browser = Browser(demo.base_url)
    admin = user(demo, "admin")
    page = browser.sign_in(admin["email"], admin["password"])

    missing = browser.post("/auth/sign-out", {})
    foreign = browser.post("/auth/sign-out", {"csrf": browser.csrf(page)}, headers={"Origin": "https://evil.example"})

    assert missing.status_code == 403 and foreign.status_code == 403
    assert session.ID_COOKIE in browser.cookies  # still signed in


def test_the_dev_page_opens_the_app_signed_in(demo):
    browser = Browser(demo.base_url)
    manager = user(demo, "account_manager")

    page = browser.post("/dev/cognito/as", {"email": manager["email"]})

    assert page.status_code == 200 and urlsplit(page.url).path == "/analytics"  # the home
    assert manager["email"] in text_of(page)


def test_the_managed_login_refuses_a_foreign_callback_and_a_code_without_its_verifier(demo):
    browser = Browser(demo.base_url)
    login = browser.get("/auth/login", follow=False).headers["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(login).query).items()}

    foreign = requests.get(login.replace("%2Fauth%2Fcallback", "%2Fevil"), timeout=10)
    admin = user(demo, "admin")
    answer = browser.post(
        "/dev/cognito/login", {**query, "email": admin["email"], "password": admin["password"]}, follow=False
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    stolen = requests.post(
        f"{demo.base_url}/dev/cognito/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "client_id": query["client_id"],
            "code": code,
            "redirect_uri": query["redirect_uri"],
            "code_verifier": "not-the-verifier",
        },
        timeout=10,
    )

    assert foreign.status_code == 400
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
