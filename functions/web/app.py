"""The AR team's web app: server-rendered pages (Jinja2 + htmx) over the same services as the API.

One Powertools resolver; routes live in ``screens/<screen>.py`` as ``Router``s, each imported on the
first request to its paths (``SCREENS``). Every page takes the signed-in person's principal from the
session cookies (``relance.web.session``) and calls ``relance.services`` with it, so each scope rule
is the API's own.
"""

from typing import Any
from urllib.parse import urlencode

import screens
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from screens.base import RENDER, SignInRequired, html, is_htmx, redirect

from relance.api.resolver import OwnEventResolver
from relance.api.routers import RouterTable
from relance.errors import Forbidden, NotFound, RelanceError
from relance.observability import logger, metrics, traced
from relance.web.session import SignInFailed, SignInUnavailable

SCREENS = RouterTable(
    screens,
    {
        "static": ("/static",),
        "auth": ("/auth",),
        "customers": ("/customers", "/customers/count", "/customers/export.csv", "/customers/import"),
        "customer": ("/customers/*",),
        "invoice": ("/invoices",),
        "actions": ("/actions",),
        "notifications": ("/notifications",),
        "replies": ("/replies",),
        "settings": ("/settings",),
        "team": ("/settings/team",),
        "fields": ("/settings/fields",),
        "exchange_rates": ("/settings/exchange-rates",),
        "integrations": ("/settings/integrations",),
        "profile": ("/profile",),
        "workflows": ("/workflows",),
        "email_templates": ("/templates",),
        "analytics": ("/analytics",),
    },
)
"""Each module of ``screens`` is imported on the first request to its paths (relance.api.routers, as the
API's routers): a cold start showing the customer list loads that screen's services, not every screen's."""

app = OwnEventResolver(routers=SCREENS)


@app.get("/")
def home() -> Response[str]:
    """The app's home is the analytics dashboard: where the cash is, before whom to chase."""
    return redirect("/analytics")


@app.exception_handler(SignInRequired)
def _sign_in(error: SignInRequired) -> Response[str]:
    location = f"/auth/login?{urlencode({'next': error.next_path})}"
    if is_htmx(app.current_event):
        answer = html("", 200)
        answer.headers["HX-Redirect"] = location
        return answer
    return redirect(location)


def _problem(status: int, title: str, message: str) -> Response[str]:
    return html(RENDER.page("problem.html", title=title, message=message), status)


@app.not_found
@app.exception_handler(NotFound)
def _not_found(_: NotFound | NotFoundError) -> Response[str]:
    return _problem(404, "Not found", "This page does not exist, or you do not have access to it.")


@app.exception_handler(Forbidden)
def _forbidden(error: Forbidden) -> Response[str]:
    return _problem(403, "Not allowed", error.message)


@app.exception_handler(SignInFailed)
@app.exception_handler(SignInUnavailable)
def _sign_in_problem(error: RelanceError) -> Response[str]:
    return _problem(error.status, "Sign-in", error.message)


@app.exception_handler(RelanceError)
def _refused(error: RelanceError) -> Response[str]:
    return _problem(error.status, "This could not be done", error.message)


@app.exception_handler(Exception)
def _bug(_: Exception) -> Response[str]:
    """A bug: logged with its stack, and a page that reveals nothing."""
    logger.exception("web app error")
    return _problem(500, "Something went wrong", "Please try again in a moment. The error has been logged.")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
