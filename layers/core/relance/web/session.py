"""Who is signed in to the web app: Cognito tokens in cookies, obtained through the managed login.

Sign-in is OAuth 2.0's authorization code flow with PKCE against the user pool's managed login
(``/oauth2/authorize`` → ``/auth/callback`` → ``/oauth2/token``). The ID token and the refresh
token are kept in ``HttpOnly``, ``Secure``, ``SameSite=Lax`` cookies (``__Host-`` names: our host
only, path ``/``). Each request verifies the ID token exactly as the API's authorizer does
(``services.users.authenticate_bearer``); an expired one is renewed with the refresh token;
signing out revokes the refresh token (``/oauth2/revoke``). While a sign-in is under way, its
PKCE verifier, state and return path travel in one short-lived cookie signed with the app's key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlencode

import jwt
import urllib3
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from itsdangerous import BadSignature, URLSafeTimedSerializer

from relance import secrets as secret_store
from relance.domain.organizations import Principal
from relance.errors import RelanceError
from relance.services.users import authenticate_bearer
from relance.settings import get_settings

ID_COOKIE = "__Host-relance-id"
REFRESH_COOKIE = "__Host-relance-refresh"
SIGN_IN_COOKIE = "__Host-relance-sign-in"
SIGN_IN_MAX_AGE = 600
REFRESH_MAX_AGE = 30 * 86400  # the app client's refresh token validity (Cognito's default)
SCOPES = "openid email profile"
SECRET_MAX_AGE = 300
_SIGN_IN_SALT = "relance-web-sign-in"
_http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3, read=10), retries=urllib3.Retry(total=2))


class SignInUnavailable(RelanceError):
    """The deployment has no managed login domain (``AuthDomainPrefix``)."""

    status = 503
    code = "sign_in_unavailable"


class SignInFailed(RelanceError):
    """The managed login refused or could not finish a sign-in."""

    status = 400
    code = "sign_in_failed"


@dataclass(frozen=True)
class Tokens:
    id_token: str
    refresh_token: str | None
    expires_in: int


@dataclass(frozen=True)
class SignedIn:
    """The person behind a request: the same principal the API's authorizer makes, plus who to greet."""

    principal: Principal
    email: str
    renewed: Tokens | None = None  # set when this request renewed the ID token: its cookie goes out


# ---------------------------------------------------------------- the app's key


def secret_key() -> str:
    """The app's signing key (``WebSecret`` in Secrets Manager, generated at deploy; cached 5 min)."""
    arn = get_settings().web_secret_arn
    if not arn:
        raise SignInUnavailable("the web app has no signing key (WEB_SECRET_ARN)")
    return secret_store.value(arn, SECRET_MAX_AGE)


# ---------------------------------------------------------------- cookies


def read_cookies(header: str | None) -> dict[str, str]:
    """The request's cookies by name (a malformed header counts as none)."""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header or "")
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def cookie(name: str, value: str, max_age: int) -> Cookie:
    return Cookie(
        name=name, value=value, path="/", secure=True, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE
    )


def expired(name: str) -> Cookie:
    return cookie(name, "", 0)


def session_cookies(tokens: Tokens) -> list[Cookie]:
    cookies = [cookie(ID_COOKIE, tokens.id_token, tokens.expires_in)]
    if tokens.refresh_token:
        cookies.append(cookie(REFRESH_COOKIE, tokens.refresh_token, REFRESH_MAX_AGE))
    return cookies


def signed_out_cookies() -> list[Cookie]:
    return [expired(ID_COOKIE), expired(REFRESH_COOKIE)]


# ---------------------------------------------------------------- the managed login (OAuth 2.0 + PKCE)


def _login_base() -> str:
    base = get_settings().login_base_url
    if base is None:
        raise SignInUnavailable("sign-in needs the Cognito managed login: deploy with AuthDomainPrefix")
    return base


def callback_url() -> str:
    return f"{get_settings().public_base_url}/auth/callback"


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def start_sign_in(key: str, next_path: str, login_hint: str | None = None) -> tuple[str, Cookie]:
    """The managed login URL to send the browser to, and the cookie that remembers this attempt."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": get_settings().user_pool_client_id,
        "redirect_uri": callback_url(),
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        query["login_hint"] = login_hint
    attempt = URLSafeTimedSerializer(key, salt=_SIGN_IN_SALT).dumps({"v": verifier, "s": state, "n": next_path})
    return f"{_login_base()}/oauth2/authorize?{urlencode(query)}", cookie(SIGN_IN_COOKIE, attempt, SIGN_IN_MAX_AGE)


def sign_in_attempt(key: str, value: str | None, state: str | None) -> tuple[str, str]:
    """The PKCE verifier and return path of the attempt ``state`` answers; SignInFailed otherwise."""
    try:
        attempt = URLSafeTimedSerializer(key, salt=_SIGN_IN_SALT).loads(value or "", max_age=SIGN_IN_MAX_AGE)
    except BadSignature as error:
        raise SignInFailed("the sign-in took too long or was started elsewhere: please sign in again") from error
    if not state or not secrets.compare_digest(str(attempt.get("s", "")), state):
        raise SignInFailed("the sign-in does not match this browser's: please sign in again")
    return str(attempt["v"]), str(attempt["n"])


def _token_request(fields: dict[str, str]) -> Tokens:
    answer = _http.request(
        "POST",
        f"{_login_base()}/oauth2/token",
        body=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        body: dict[str, Any] = json.loads(answer.data or b"{}")
    except ValueError:
        body = {}
    if answer.status != 200 or "id_token" not in body:
        raise SignInFailed(f"the sign-in service refused: {body.get('error', answer.status)}")
    return Tokens(str(body["id_token"]), body.get("refresh_token"), int(body.get("expires_in", 3600)))


def exchange_code(code: str, verifier: str) -> Tokens:
    """``/oauth2/token``, grant ``authorization_code``: the tokens of a finished sign-in."""
    return _token_request(
        {
            "grant_type": "authorization_code",
            "client_id": get_settings().user_pool_client_id,
            "code": code,
            "redirect_uri": callback_url(),
            "code_verifier": verifier,
        }
    )


def refresh(refresh_token: str) -> Tokens:
    """``/oauth2/token``, grant ``refresh_token``: a new ID token (the refresh token stays)."""
    fields = {
        "grant_type": "refresh_token",
        "client_id": get_settings().user_pool_client_id,
        "refresh_token": refresh_token,
    }
    renewed = _token_request(fields)
    return Tokens(renewed.id_token, None, renewed.expires_in)


def revoke(refresh_token: str) -> None:
    """``/oauth2/revoke``: the refresh token (and the tokens it issued) stop working."""
    _http.request(
        "POST",
        f"{_login_base()}/oauth2/revoke",
        body=urlencode({"token": refresh_token, "client_id": get_settings().user_pool_client_id}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def logout_url() -> str | None:
    """The managed login's ``/logout`` (ends its own session), back to our signed-out page."""
    base = get_settings().login_base_url
    if base is None:
        return None
    query = {"client_id": get_settings().user_pool_client_id, "logout_uri": signed_out_url()}
    return f"{base}/logout?{urlencode(query)}"


def signed_out_url() -> str:
    return f"{get_settings().public_base_url}/auth/signed-out"


# ---------------------------------------------------------------- each request


def _email_of(id_token: str) -> str:
    """The ``email`` claim of a token ``authenticate_bearer`` already verified."""
    claims = jwt.decode(id_token, options={"verify_signature": False})
    return str(claims.get("email", ""))


def signed_in(cookies: dict[str, str]) -> SignedIn | None:
    """The person whose session cookies these are; None when there is no valid session.

    An ID token that no longer verifies (expired, after an hour) is renewed once with the
    refresh token; a revoked or expired refresh token ends the session.
    """
    id_token = cookies.get(ID_COOKIE)
    if id_token:
        principal = authenticate_bearer(id_token)
        if principal is not None:
            return SignedIn(principal, _email_of(id_token))
    refresh_token = cookies.get(REFRESH_COOKIE)
    if not refresh_token or get_settings().login_base_url is None:
        return None
    try:
        renewed = refresh(refresh_token)
    except (SignInFailed, urllib3.exceptions.HTTPError):
        return None
    principal = authenticate_bearer(renewed.id_token)
    return SignedIn(principal, _email_of(renewed.id_token), renewed) if principal is not None else None
