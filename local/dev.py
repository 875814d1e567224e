"""Local-only pages and endpoints (absent in AWS): the outbox, the clock, demo logins, sender verification.

``GET /dev`` (index), ``GET /dev/outbox``, ``GET|POST /dev/clock``, ``GET /dev/login``,
``GET /dev/ses/identities`` and ``POST /dev/ses/verify {"email"}`` (the click on the link
of SES's verification email).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.wrappers import Request, Response

from local import ses_identities
from local.outbox import Outbox
from relance import clock

_pages = Environment(loader=PackageLoader("local", "pages"), autoescape=select_autoescape())


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _error(status: int, message: str, fields: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"code": "validation_error" if fields else "bad_request", "message": message}
    if fields:
        error["fields"] = fields
    return _json({"error": error}, status)


class DevConsole:
    def __init__(self, outbox: Outbox, session: dict[str, Any], sign_in_with: Any) -> None:
        self.outbox = outbox
        self.session = session
        self.sign_in_with = sign_in_with

    def handle(self, request: Request) -> Response | None:
        """The answer to a local-only request, or None when the path is not ours."""
        routes = {
            ("GET", "/dev"): self.index,
            ("GET", "/dev/outbox"): self.get_outbox,
            ("GET", "/dev/clock"): self.get_clock,
            ("POST", "/dev/clock"): self.post_clock,
            ("GET", "/dev/login"): self.login,
            ("POST", "/dev/login"): self.sign_in,
            ("GET", "/dev/ses/identities"): self.get_identities,
            ("POST", "/dev/ses/verify"): self.verify_identity,
        }
        path = request.path.rstrip("/") or "/"
        route = routes.get((request.method, path))
        if route is not None:
            return route(request)
        if path.startswith("/dev"):
            return _json({"error": {"code": "not_found", "message": "no such dev endpoint"}}, 404)
        return None

    def index(self, _: Request) -> Response:
        pending = [i for i in self.outbox.identities.describe() if i["status"] != "verified"]
        html = _pages.get_template("index.html").render(
            session=self.session,
            now=clock.now(),
            scale=clock.scale(),
            outbox=len(self.outbox.messages()),
            pending=pending,
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def login(self, _: Request) -> Response:
        html = _pages.get_template("login.html").render(session=self.session)
        return Response(html, content_type="text/html; charset=utf-8")

    def sign_in(self, request: Request) -> Response:
        """Sign in as a demo user through Cognito: answers the ID token the API accepts."""
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except json.JSONDecodeError:
            body = dict(request.form)
        email = body.get("email") if isinstance(body, dict) else None
        user = next((u for u in self.session["users"] if u["email"] == email), None)
        if user is None:
            return _error(422, "invalid value for: email", {"email": "not a demo user"})
        tokens = self.sign_in_with(user["email"], user["password"])
        if "json" not in request.headers.get("Accept", "") and request.form:
            html = _pages.get_template("login.html").render(session=self.session, signed_in=user, token=tokens)
            return Response(html, content_type="text/html; charset=utf-8")
        return _json(tokens)

    def get_identities(self, _: Request) -> Response:
        return _json(self.outbox.identities.describe())

    def verify_identity(self, request: Request) -> Response:
        """Click the link of SES's verification email: the identity (address or domain) is verified."""
        form = False
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except json.JSONDecodeError:  # the dev page's Verify button posts a form
            body, form = dict(request.form), True
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not email.strip():
            return _error(422, "invalid value for: email", {"email": "the identity to verify is required"})
        if not ses_identities.verify(email):
            return _json({"error": {"code": "not_found", "message": f"SES has no identity {email}"}}, 404)
        if form:
            return Response(status=303, headers={"Location": "/dev"})
        return _json({"identity": email, "status": "verified"})

    def get_outbox(self, _: Request) -> Response:
        return _json(self.outbox.messages())

    def get_clock(self, _: Request) -> Response:
        return _json({"now": clock.now().isoformat(), "timeScale": clock.scale()})

    def post_clock(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except json.JSONDecodeError:
            return _error(400, "the request body is not valid JSON")
        days = body.get("advanceDays") if isinstance(body, dict) else None
        if isinstance(days, bool) or not isinstance(days, int | float) or not 0 <= days <= 3650:
            fields = {"advanceDays": "a number of days from 0 to 3650 is required"}
            return _error(422, "invalid value for: advanceDays", fields)
        now = clock.advance(timedelta(days=days))
        return _json({"now": now.isoformat()})
