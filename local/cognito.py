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
AWS.

"Continue with Google" goes through the same federation path as in AWS: a local Google
(``/dev/google``: choose an address, get an ID token signed with a key of this run, RS256) sends
the browser back to ``/oauth2/idpresponse``, which verifies that token, and — the first time this
Google identity signs in — calls the template's pre-sign-up trigger (``PreSignUpFunction``, the
deployed handler) with Cognito's ``PreSignUp_ExternalProvider`` event. The trigger's
``AdminLinkProviderForUser`` (which moto lacks) is answered here and remembered; a refusal goes
back to the app's callback as Cognito sends it (``error_description=PreSignUp failed with error
…``); a linked identity gets the tokens of the user it is linked to.

The dev page's "Open the app as" buttons post ``/dev/cognito/as {email}``: a one-time ticket,
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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
from botocore.awsrequest import AWSResponse
from cryptography.hazmat.primitives.asymmetric import rsa
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Request, Response

from local import hooks
from local.functions import FunctionError
from local.template import ACCOUNT, REGION
from relance import aws

PREFIX = "/dev/cognito"
GOOGLE = "/dev/google"
GOOGLE_CLIENT = "local-google-client"
_LINK = "before-call.cognito-idp.AdminLinkProviderForUser"
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
    def __init__(self, base_url: str, pool_id: str, client_id: str, users: Callable[[], list[dict[str, Any]]]) -> None:
        self.base_url = base_url
        self.login_base = f"{base_url}{PREFIX}"
        self.pool_id = pool_id
        self.client_id = client_id
        self.demo_users = users  # the demo users (email, password) the dev page signs in as
        self.callback = f"{base_url}/auth/callback"
        self.signed_out = f"{base_url}/auth/signed-out"
        self._codes: dict[str, Grant] = {}
        self._tickets: dict[str, str] = {}
        self.revoked: set[str] = set()
        self._lock = threading.Lock()
        self.functions: Any = None  # the runtime's FunctionRegistry: the pre-sign-up trigger
        self.links: dict[str, str] = {}  # "Google_<sub>" → the pool's username it is linked to
        self._pending: dict[str, dict[str, str]] = {}  # Google's state → the authorize request waiting
        self._google_codes: dict[str, str] = {}  # Google's code → its ID token
        self._google_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.google_issuer = f"{base_url}{GOOGLE}"

    def install(self) -> None:
        """Answer ``AdminLinkProviderForUser`` (moto has no federation) for every cognito-idp client."""
        entry = (_LINK, self._link)
        hooks.install([entry])
        aws.client("cognito-idp").meta.events.register(*entry)  # made already, before the hook

    def uninstall(self) -> None:
        entry = (_LINK, self._link)
        hooks.uninstall([entry])
        aws.client("cognito-idp").meta.events.unregister(*entry)

    def _link(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = json.loads(params["body"]) if isinstance(params.get("body"), str | bytes) else params.get("body", {})
        source, destination = body["SourceUser"], body["DestinationUser"]
        self.links[f"{source['ProviderName']}_{source['ProviderAttributeValue']}"] = destination[
            "ProviderAttributeValue"
        ]
        return AWSResponse(params.get("url", ""), 200, {}, None), {"ResponseMetadata": {"HTTPStatusCode": 200}}

    def handle(self, request: Request) -> Response | None:
        if request.path.startswith(GOOGLE):
            google = {("GET", "/authorize"): self.google_page, ("POST", "/authorize"): self.google_choose}
            route = google.get((request.method, request.path[len(GOOGLE) :].rstrip("/")))
            return route(request) if route else _json({"error": "not_found"}, 404)
        if not request.path.startswith(PREFIX):
            return None
        routes = {
            ("GET", "/oauth2/authorize"): self.authorize,
            ("POST", "/login"): self.login,
            ("POST", "/oauth2/token"): self.token,
            ("POST", "/oauth2/revoke"): self.revoke,
            ("GET", "/logout"): self.logout,
            ("POST", "/as"): self.sign_in_as,
            ("GET", "/oauth2/idpresponse"): self.idp_response,
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
        if params.get("identity_provider") == "Google":  # "Continue with Google": off to Google
            state = secrets.token_urlsafe(16)
            self._pending[state] = {k: v for k, v in params.items() if k != "identity_provider"}
            query = {
                "client_id": GOOGLE_CLIENT,
                "redirect_uri": f"{self.login_base}/oauth2/idpresponse",
                "response_type": "code",
                "scope": "openid email profile",
                "state": state,
            }
            return Response(status=302, headers={"Location": f"{self.google_issuer}/authorize?{urlencode(query)}"})
        ticket = request.cookies.get("dev-sign-in-as")
        email = self._tickets.pop(ticket, None) if ticket else None
        if email and email == params.get("login_hint"):
            user = next((u for u in self.demo_users() if u["email"] == email), None)
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

    # ------------------------------------------------------------ Google, and Cognito's side of it
    def google_page(self, request: Request) -> Response:
        html = _pages.get_template("google_login.html").render(params=dict(request.args.items()))
        return Response(html, content_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    def google_choose(self, request: Request) -> Response:
        """The person picked an address: Google's ID token for it, behind a one-time code."""
        email = request.form.get("email", "").strip().lower()
        if request.form.get("client_id") != GOOGLE_CLIENT or "@" not in email:
            return Response("invalid_request", 400, content_type="text/plain")
        now = int(time.time())
        claims = {
            "iss": self.google_issuer,
            "aud": GOOGLE_CLIENT,
            "sub": str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16)),
            "email": email,
            "email_verified": True,
            "name": request.form.get("name", "").strip() or email.partition("@")[0],
            "iat": now,
            "exp": now + 3600,
        }
        code = secrets.token_urlsafe(24)
        self._google_codes[code] = jwt.encode(claims, self._google_key, algorithm="RS256")
        query = {"code": code, "state": request.form.get("state", "")}
        return Response(status=302, headers={"Location": f"{request.form.get('redirect_uri')}?{urlencode(query)}"})

    def _refused(self, params: dict[str, str], message: str) -> Response:
        query = {"error": "access_denied", "error_description": message, "state": params.get("state", "")}
        return Response(status=302, headers={"Location": f"{params['redirect_uri']}?{urlencode(query)}"})

    def idp_response(self, request: Request) -> Response:
        """Google's answer: its token verified, the identity linked (pre-sign-up) or refused, then signed in."""
        params = self._pending.pop(request.args.get("state", ""), None)
        token = self._google_codes.pop(request.args.get("code", ""), None)
        if params is None or token is None:
            return Response("invalid_request", 400, content_type="text/plain")
        claims = jwt.decode(
            token,
            self._google_key.public_key(),
            algorithms=["RS256"],
            audience=GOOGLE_CLIENT,
            issuer=self.google_issuer,
        )
        username = f"Google_{claims['sub']}"
        if username not in self.links:
            event = {
                "version": "1",
                "region": REGION,
                "userPoolId": self.pool_id,
                "userName": username,
                "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": self.client_id},
                "triggerSource": "PreSignUp_ExternalProvider",
                "request": {
                    "userAttributes": {
                        "email": claims["email"],
                        "email_verified": str(claims["email_verified"]).lower(),
                        "name": claims.get("name", ""),
                    },
                    "validationData": {},
                },
                "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
            }
            try:
                self.functions["PreSignUpFunction"].invoke(event)
            except FunctionError as refused:
                return self._refused(params, f"PreSignUp failed with error {refused.payload.get('errorMessage')}.")
        linked = self.links.get(username)
        if linked is None:
            return self._refused(params, "PreSignUp failed with error the identity was not linked.")
        return self._signed_in(params, self._tokens_of(linked))

    def _tokens_of(self, username: str) -> dict[str, Any]:
        """Cognito's tokens for a user of the pool, as it issues them after a federated sign-in."""
        from moto.cognitoidp.models import cognitoidp_backends

        pool = cognitoidp_backends[ACCOUNT][REGION].user_pools[self.pool_id]
        refresh_token, origin = pool.create_refresh_token(self.client_id, username)
        access_token, expires_in = pool.create_access_token(self.client_id, username, origin)
        id_token, _ = pool.create_id_token(self.client_id, username, origin)
        return {
            "id_token": id_token,
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": expires_in,
            "token_type": "Bearer",
        }

    # ------------------------------------------------------------ the dev page's shortcut
    def sign_in_as(self, request: Request) -> Response:
        email = request.form.get("email", "")
        if not any(u["email"] == email for u in self.demo_users()):
            return Response("not a demo user", 422, content_type="text/plain")
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = email
        response = Response(status=303, headers={"Location": f"/auth/login?{urlencode({'login_hint': email})}"})
        response.set_cookie("dev-sign-in-as", ticket, max_age=60, path=PREFIX, httponly=True, samesite="Lax")
        return response
