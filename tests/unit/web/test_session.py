"""Session cookies and the sign-in attempt: the rules that keep a session to its browser."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from relance.settings import get_settings
from relance.web import session

KEY = "k" * 64


@pytest.fixture(autouse=True)
def _login(monkeypatch):
    monkeypatch.setenv("COGNITO_LOGIN_BASE", "https://login.example.com")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", "client123")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ar.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_session_cookies_are_host_only_httponly_secure_and_lax():
    cookies = session.session_cookies(session.Tokens("id.token.x", "refresh-token", 3600))
    rendered = [str(c) for c in cookies]

    assert [c.name for c in cookies] == [session.ID_COOKIE, session.REFRESH_COOKIE]
    for text in rendered:
        assert text.startswith("__Host-")
        assert "; Path=/" in text
        assert "; Secure" in text
        assert "; HttpOnly" in text
        assert "; SameSite=Lax" in text
        assert "Domain=" not in text
    assert "Max-Age=3600" in rendered[0]
    assert f"Max-Age={30 * 86400}" in rendered[1]


def test_signing_out_expires_both_cookies():
    rendered = [str(c) for c in session.signed_out_cookies()]

    assert all("Max-Age=0" in text for text in rendered)


def test_sign_in_starts_with_pkce_s256_and_a_state_only_this_browser_holds():
    url, attempt = session.start_sign_in(KEY, "/customers/cus_1", login_hint="ada@example.com")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    assert url.startswith("https://login.example.com/oauth2/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == "client123"
    assert query["redirect_uri"] == "https://ar.example.com/auth/callback"
    assert query["code_challenge_method"] == "S256"
    assert query["login_hint"] == "ada@example.com"
    verifier, back_to = session.sign_in_attempt(KEY, attempt.value, query["state"])
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == query["code_challenge"]
    assert back_to == "/customers/cus_1"
    assert attempt.name == session.SIGN_IN_COOKIE and attempt.http_only and attempt.secure
    assert "code_verifier" not in url and verifier not in url  # no secret in a URL


def test_a_callback_with_another_state_or_a_forged_attempt_is_refused():
    url, attempt = session.start_sign_in(KEY, "/customers")
    state = parse_qs(urlsplit(url).query)["state"][0]

    with pytest.raises(session.SignInFailed):
        session.sign_in_attempt(KEY, attempt.value, "another-state")
    with pytest.raises(session.SignInFailed):
        session.sign_in_attempt("another-key" * 6, attempt.value, state)
    with pytest.raises(session.SignInFailed):
        session.sign_in_attempt(KEY, None, state)


def test_cookies_are_read_from_the_header():
    assert session.read_cookies("a=1; __Host-relance-id=x.y.z") == {"a": "1", "__Host-relance-id": "x.y.z"}
    assert session.read_cookies(None) == {}


def test_no_session_without_cookies():
    assert session.signed_in({}) is None


def test_logout_returns_to_our_signed_out_page():
    url = session.logout_url()

    assert url is not None
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://login.example.com/logout?")
    assert query["logout_uri"] == ["https://ar.example.com/auth/signed-out"]
