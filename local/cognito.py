"""Cognito's managed login, as far as the web app uses it, on loopback (no domain, no AWS).

Served under ``/dev/cognito``, where ``COGNITO_LOGIN_BASE`` points the web app (in AWS it is
``https://<AuthDomainPrefix>.auth.<region>.amazoncognito.com``):

- ``GET /oauth2/authorize`` — the sign-in page (email and password, checked against moto's
  Cognito with ``AdminInitiateAuth``); the client id, redirect URI (the app client's callback),
  ``state`` and the PKCE ``code_challenge`` (S256 only) are checked as Cognito checks them;
- ``POST /oauth2/token`` — grant ``authorization_code`` (one use, five minutes, PKCE verifier and
  redirect URI checked) and grant ``refresh_token`` (refused once revoked);
- ``POST /oauth2/revoke`` — the refresh token stops working; ``GET /logout`` — back to ``logout_uri``.

The tokens are moto's, signed with the pool's key, so the web app verifies them exactly as in
AWS. The dev page's "Open the app as" buttons post ``/dev/cognito/as {email}``: a one-time ticket,
bound to the browser by a cookie, lets the next sign-in of that demo user through without typing
the password — the rest of the flow (authorize, callback, token) is the real one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Request, Response

from relance import aws

PREFIX = "/dev/cognito"
CODE_LIFETIME = 300
_pages = Environment(loader=PackageLoader("local", "pages"), autoescape=select_autoescape())


@dataclass
class Grant:
    tokens: dict[str, Any]
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json", headers={"Cache-Control": "no-store"})


def _oauth_error(error: str, status: int = 400) -> Response:
    return _json({"error": error}, status)


class LocalCognito:
    def __init__(self, base_url: str, pool_id: str, client_id: str, users: list[dict[str, Any]]) -> None:
        self.base_url = base_url
        self.login_base = f"{base_url}{PREFIX}"
        self.pool_id = pool_id
        self.client_id = client_id
        self.users = users  # the demo users (email, password) the dev page signs in as
        self.callback = f"{base_url}/auth/callback"
        self.signed_out = f"{base_url}/auth/signed-out"
        self._codes: dict[str, Grant] = {}
        self._tickets: dict[str, str] = {}
        self.revoked: set[str] = set()
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response | None:
        if not request.path.startswith(PREFIX):
            return None
        routes = {
            ("GET", "/oauth2/authorize"): self.authorize,
            ("POST", "/login"): self.login,
            ("POST", "/oauth2/token"): self.token,
            ("POST", "/oauth2/revoke"): self.revoke,
            ("GET", "/logout"): self.logout,
            ("POST", "/as"): self.sign_in_as,
        }
        route = routes.get((request.method, request.path[len(PREFIX) :].rstrip("/")))
        return route(request) if route else _json({"error": "not_found"}, 404)

    # ------------------------------------------------------------ the sign-in page
    def _check(self, params: dict[str, str]) -> str | None:
        """What is wrong with an authorization request, as Cognito would refuse it."""
        if params.get("client_id") != self.client_id:
            return "unknown client_id"
        if params.get("redirect_uri") != self.callback:
            return "redirect_mismatch: the redirect_uri is not a callback URL of the app client"
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "invalid_request: PKCE with S256 is required"
        return None

    def _page(self, params: dict[str, str], error: str | None = None, status: int = 200) -> Response:
        html = _pages.get_template("cognito_login.html").render(
            params=params, error=error, email=params.get("login_hint", "")
        )
        return Response(html, status, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    def authorize(self, request: Request) -> Response:
        params = {k: v for k, v in request.args.items()}
        problem = self._check(params)
        if problem:
            return Response(problem, 400, content_type="text/plain; charset=utf-8")
        ticket = request.cookies.get("dev-sign-in-as")
        email = self._tickets.pop(ticket, None) if ticket else None
        if email and email == params.get("login_hint"):
            user = next((u for u in self.users if u["email"] == email), None)
            if user is not None:
                response = self._signed_in(params, self._password_tokens(user["email"], user["password"]))
                response.delete_cookie("dev-sign-in-as", path=PREFIX)
                return response
        return self._page(params)

    def login(self, request: Request) -> Response:
        params = {k: v for k, v in request.form.items() if k not in ("email", "password")}
        problem = self._check(params)
        if problem:
            return Response(problem, 400, content_type="text/plain; charset=utf-8")
        email, password = request.form.get("email", "").strip().lower(), request.form.get("password", "")
        try:
            tokens = self._password_tokens(email, password)
        except aws.client("cognito-idp").exceptions.NotAuthorizedException:
            return self._page({**params, "login_hint": email}, "Incorrect username or password.", 400)
        except aws.client("cognito-idp").exceptions.UserNotFoundException:
            return self._page({**params, "login_hint": email}, "Incorrect username or password.", 400)
        return self._signed_in(params, tokens)

    def _password_tokens(self, email: str, password: str) -> dict[str, Any]:
        result = aws.client("cognito-idp").admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        return {
            "id_token": result["IdToken"],
            "access_token": result["AccessToken"],
            "refresh_token": result["RefreshToken"],
            "expires_in": result["ExpiresIn"],
            "token_type": "Bearer",
        }

    def _signed_in(self, params: dict[str, str], tokens: dict[str, Any]) -> Response:
        """Back to the app's callback with a one-time authorization code."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = Grant(
                tokens,
                params["client_id"],
                params["redirect_uri"],
                params["code_challenge"],
                time.time() + CODE_LIFETIME,
            )
        query = {"code": code, **({"state": params["state"]} if params.get("state") else {})}
        return Response(status=302, headers={"Location": f"{params['redirect_uri']}?{urlencode(query)}"})

    # ------------------------------------------------------------ the token endpoints
    def token(self, request: Request) -> Response:
        form = request.form
        if form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client", 401)
        if form.get("grant_type") == "authorization_code":
            with self._lock:
                grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant.expires < time.time() or grant.redirect_uri != form.get("redirect_uri"):
                return _oauth_error("invalid_grant")
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not secrets.compare_digest(challenge, grant.challenge):
                return _oauth_error("invalid_grant")
            return _json(grant.tokens)
        if form.get("grant_type") == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            if refresh_token in self.revoked:
                return _oauth_error("invalid_grant")
            try:
                result = aws.client("cognito-idp").initiate_auth(
                    ClientId=self.client_id,
                    AuthFlow="REFRESH_TOKEN_AUTH",
                    AuthParameters={"REFRESH_TOKEN": refresh_token},
                )["AuthenticationResult"]
            except Exception:  # moto: an unknown refresh token
                return _oauth_error("invalid_grant")
            return _json(
                {
                    "id_token": result["IdToken"],
                    "access_token": result["AccessToken"],
                    "expires_in": result["ExpiresIn"],
                    "token_type": "Bearer",
                }
            )
        return _oauth_error("unsupported_grant_type")

    def revoke(self, request: Request) -> Response:
        if request.form.get("client_id") != self.client_id:
            return _oauth_error("invalid_client", 401)
        self.revoked.add(request.form.get("token", ""))
        return Response("", 200)

    def logout(self, request: Request) -> Response:
        if request.args.get("client_id") != self.client_id or request.args.get("logout_uri") != self.signed_out:
            return Response("logout_uri is not a sign-out URL of the app client", 400, content_type="text/plain")
        return Response(status=302, headers={"Location": request.args["logout_uri"]})

    # ------------------------------------------------------------ the dev page's shortcut
    def sign_in_as(self, request: Request) -> Response:
        email = request.form.get("email", "")
        if not any(u["email"] == email for u in self.users):
            return Response("not a demo user", 422, content_type="text/plain")
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = email
        response = Response(status=303, headers={"Location": f"/auth/login?{urlencode({'login_hint': email})}"})
        response.set_cookie("dev-sign-in-as", ticket, max_age=60, path=PREFIX, httponly=True, samesite="Lax")
        return response
