"""The customer portal (public, token in the path): HTML pages, documents, payment, messages."""

from typing import Any, TypeVar
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ValidationError

from relance import clock
from relance.api.resolver import OwnEventResolver
from relance.domain.portal import Dispute, PortalMessage, PortalRefused, Promise
from relance.errors import Conflict, Invalid, NotFound, validation_fields
from relance.observability import logger, metrics, traced
from relance.portal import pages
from relance.services import portal
from relance.settings import get_settings

app = OwnEventResolver()
M = TypeVar("M", bound=BaseModel)


def link_url(token: str) -> str:
    return f"{get_settings().public_base_url}/portal/{token}"


def _html(body: str, status: int = 200) -> Response[str]:
    return Response(status, "text/html; charset=utf-8", body, headers=pages.security_headers())


def _redirect(location: str) -> Response[str]:
    return Response(303, "text/html; charset=utf-8", "", headers={**pages.security_headers(), "Location": location})


def _form() -> dict[str, list[str]]:
    return parse_qs(app.current_event.decoded_body or "", keep_blank_values=False)


def _model(model: type[M], values: dict[str, Any]) -> M:
    try:
        return model.model_validate({k: v for k, v in values.items() if v not in (None, "", [])})
    except ValidationError as error:
        fields = validation_fields(error.errors())
        raise Invalid(f"please check: {', '.join(fields)}", fields) from error


@app.get("/portal/<token>")
def show(token: str) -> Response[str]:
    query = app.current_event.query_string_parameters or {}
    page = portal.page(token, payment=query.get("payment"))
    return _html(pages.portal_html(page, link_url(token), clock.now().date(), done=query.get("done")))


@app.get("/portal/<token>/statement.pdf")
def statement(token: str) -> Response[bytes]:
    from relance.portal import statement_pdf  # reportlab is heavy: imported on the first statement only

    visit, parts, today = portal.statement_of(token)
    pdf = statement_pdf.render(
        organization=visit.organization.name,
        customer=visit.customer["name"],
        language=pages.language_of(visit.customer.get("language")),
        today=today,
        statements=parts,
    )
    headers = {**pages.security_headers(), "Content-Disposition": f'inline; filename="statement-{today}.pdf"'}
    return Response(200, "application/pdf", pdf, headers=headers)


@app.get("/portal/<token>/invoices/<document>")
def invoice_document(token: str, document: str) -> Response[str]:
    if not document.endswith(".pdf"):
        raise NotFound("no such document")
    return _redirect(portal.invoice_document(token, document.removesuffix(".pdf")))


@app.post("/portal/<token>/pay")
def pay(token: str) -> Response[str]:
    return _redirect(portal.pay(token, _form().get("invoiceIds", [])))


@app.get("/portal/return/<reference>")
def come_back(reference: str) -> Response[str]:
    """Stripe's success and cancel URLs: the portal again, through a new link (never the token)."""
    query = app.current_event.query_string_parameters or {}
    return _redirect(portal.returned(reference, cancelled=bool(query.get("cancelled"))))


@app.post("/portal/<token>/messages")
def message(token: str) -> Response[str]:
    form = _form()
    fields = {name: form.get(name, [""])[0] for name in ("body", "email", "name")}
    portal.send_message(token, _model(PortalMessage, fields))
    return _redirect(f"{link_url(token)}?done=message")


@app.post("/portal/<token>/disputes")
def dispute(token: str) -> Response[str]:
    form = _form()
    fields = {name: form.get(name, [""])[0] for name in ("reason", "comment")}
    portal.dispute(token, form.get("invoiceId", [""])[0], _model(Dispute, fields))
    return _redirect(f"{link_url(token)}?done=dispute")


@app.post("/portal/<token>/promise")
def promise(token: str) -> Response[str]:
    form = _form()
    fields = {
        "invoiceIds": form.get("invoiceIds", []),
        "promisedFor": form.get("promisedFor", [""])[0],
        "comment": form.get("comment", [""])[0],
    }
    portal.promise(token, _model(Promise, fields))
    return _redirect(f"{link_url(token)}?done=promise")


@app.not_found
@app.exception_handler(NotFound)
def _unknown_link(_: NotFound | NotFoundError) -> Response[str]:
    return _html(pages.not_found_html(pages.browser_language(app.current_event.headers.get("accept-language"))), 404)


@app.exception_handler(Invalid)
@app.exception_handler(Conflict)
@app.exception_handler(PortalRefused)
def _refused(error: Invalid | Conflict | PortalRefused) -> Response[str]:
    """The page again, saying what to fix in the visitor's language (the input is kept by the browser's back)."""
    token = app.current_event.path_parameters.get("token", "") if app.current_event.path_parameters else ""
    page = portal.page(token)
    text = pages.refusal(pages.language_of(page.language), error)
    html = pages.portal_html(page, link_url(token), clock.now().date(), error=text)
    return _html(html, error.status)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@traced
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
