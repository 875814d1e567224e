"""The portal's page (the request a portal cold start nearly always serves) and the way back from Stripe."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance import clock
from relance.domain.portal import PortalRefused
from relance.errors import Conflict, Invalid
from relance.portal import pages
from relance.services import portal
from views.base import html, link_url, redirect

router = Router()


@router.get("/portal/<token>")
def show(token: str) -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    page = portal.page(token, payment=query.get("payment"))
    return html(pages.portal_html(page, link_url(token), clock.now().date(), done=query.get("done")))


@router.get("/portal/return/<reference>")
def come_back(reference: str) -> Response[str]:
    """Stripe's success and cancel URLs: the portal again, through a new link (never the token)."""
    query = router.current_event.query_string_parameters or {}
    return redirect(portal.returned(reference, cancelled=bool(query.get("cancelled"))))


def refused(token: str, error: Invalid | Conflict | PortalRefused) -> Response[str]:
    """The page again, saying what to fix in the visitor's language (the input is kept by the browser's back)."""
    page = portal.page(token)
    text = pages.refusal(pages.language_of(page.language), error)
    return html(pages.portal_html(page, link_url(token), clock.now().date(), error=text), error.status)
