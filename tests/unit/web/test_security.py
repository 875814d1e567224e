"""The web app's rules: CSRF tokens, where a sign-in returns, the headers of pages and of static files."""

import time

import pytest

from relance.web import security

KEY = "k" * 64


def test_csrf_token_is_valid_for_its_subject_only():
    token = security.csrf_token(KEY, "user:usr_1")

    assert security.csrf_valid(KEY, "user:usr_1", token)
    assert not security.csrf_valid(KEY, "user:usr_2", token)
    assert not security.csrf_valid("another-key" * 6, "user:usr_1", token)


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_csrf_refuses_missing_or_forged_tokens(token):
    assert not security.csrf_valid(KEY, "user:usr_1", token)


def test_csrf_token_expires():
    token = security.csrf_token(KEY, "user:usr_1")
    time.sleep(1.1)

    assert not security.csrf_valid(KEY, "user:usr_1", token, max_age=0)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/customers/cus_1", "/customers/cus_1"),
        ("/customers?rating=D&overdueMin=100000", "/customers?rating=D&overdueMin=100000"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_sign_in_returns_to_our_own_paths_only(target, expected):
    assert security.local_path(target) == expected


def test_same_origin_allows_our_origin_or_none():
    assert security.same_origin(None, "https://ar.example.com")
    assert security.same_origin("https://ar.example.com", "https://ar.example.com/")
    assert not security.same_origin("https://evil.example", "https://ar.example.com")


def test_pages_allow_only_our_scripts_and_styles_and_are_never_cached():
    headers = security.page_headers(("https://login.example.com",))
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))

    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "unsafe-eval" not in headers["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self' https://login.example.com"
    assert headers["Cache-Control"].startswith("no-store")
    assert headers["X-Frame-Options"] == "DENY"


def test_static_files_are_cached_forever():
    assert security.STATIC_HEADERS["Cache-Control"] == "public, max-age=31536000, immutable"
