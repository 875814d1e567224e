"""What every screen shares: the signed-in person, CSRF checks, HTML answers, forms, htmx."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from relance.errors import Forbidden
from relance.services import notes
from relance.settings import get_settings
from relance.web import security, session
from relance.web.assets import StaticFiles
from relance.web.render import Renderer
from relance.web.session import SignedIn

STATIC = StaticFiles(Path(__file__).resolve().parent.parent / "static")
RENDER = Renderer(STATIC)


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in, then back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    code = "csrf_refused"


def is_htmx(event: BaseProxyEvent) -> bool:
    return event.headers.get("hx-request") == "true"


def full_path(event: BaseProxyEvent) -> str:
    query = event.multi_value_query_string_parameters or {}
    pairs = [(k, v) for k, values in query.items() for v in values]
    return event.path + (f"?{urlencode(pairs)}" if pairs else "")


def signed_in(router: Router) -> SignedIn:
    """The person behind this request; SignInRequired when there is none (or it ended)."""
    event = router.current_event
    person = session.signed_in(session.read_cookies(event.headers.get("cookie")))
    if person is None:
        raise SignInRequired(full_path(event) if event.http_method == "GET" else "/customers")
    return person


def form(event: BaseProxyEvent) -> dict[str, list[str]]:
    """A url-encoded form's fields (every value, blanks kept)."""
    return parse_qs(event.decoded_body or "", keep_blank_values=True)


def first(fields: dict[str, list[str]], name: str, default: str = "") -> str:
    return fields.get(name, [default])[0].strip()


def check_csrf(router: Router, person: SignedIn, fields: dict[str, list[str]] | None = None) -> None:
    """A state-changing request must come from our pages: same origin, and the user's CSRF token."""
    event = router.current_event
    if not security.same_origin(event.headers.get("origin"), get_settings().public_base_url):
        raise CsrfRefused("this request did not come from Relance's pages")
    token = event.headers.get(security.CSRF_HEADER.lower()) or first(fields or {}, security.CSRF_FIELD) or None
    if not security.csrf_valid(session.secret_key(), person.principal.principal_id, token):
        raise CsrfRefused("this form has expired: reload the page and try again")


def csrf_of(person: SignedIn) -> str:
    return security.csrf_token(session.secret_key(), person.principal.principal_id)


def form_targets() -> tuple[str, ...]:
    """Where a form may lead besides our origin: the managed login (sign-out ends its session too)."""
    base = get_settings().login_base_url
    return (base,) if base and not base.startswith(get_settings().public_base_url) else ()


def html(
    body: str, status: int = 200, person: SignedIn | None = None, cookies: list[Cookie] | None = None
) -> Response[str]:
    """An HTML answer with the app's security headers (and a renewed session cookie, if any)."""
    out = list(cookies or [])
    if person is not None and person.renewed is not None:
        out += session.session_cookies(person.renewed)
    return Response(
        status,
        "text/html; charset=utf-8",
        body,
        headers=security.page_headers(form_targets(), notes.upload_origins()),  # a note's files go to S3
        cookies=out,
    )


def redirect(location: str, person: SignedIn | None = None, cookies: list[Cookie] | None = None) -> Response[str]:
    """303 See Other (after a form), or for htmx an ``HX-Location`` it follows itself."""
    answer = html("", 303, person, cookies)
    answer.headers["Location"] = location
    return answer


def page(
    router: Router,
    person: SignedIn,
    template: str,
    *,
    block: str | None = None,
    status: int = 200,
    **context: Any,
) -> Response[str]:
    """The whole page, or for an htmx request that asked for it, one block of the same template."""
    values = {"person": person, "csrf": csrf_of(person), "is_admin": person.principal.is_admin, **context}
    if block is not None and is_htmx(router.current_event):
        return html(RENDER.block(template, block, **values), status, person)
    return html(RENDER.page(template, **values), status, person)
