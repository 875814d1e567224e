"""The invoice page: its details, PDF, status and timeline; a dispute raised or resolved (admins),
a promise to pay recorded or cleared.

Forms post to the page's own URL with ``do``; success answers 303 back to it, a refusal shows the
page again with its reason (422).
"""

from datetime import date
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance import clock
from relance.domain.portal import Dispute
from relance.errors import Conflict, Invalid, validation_fields
from relance.services import disputes_and_promises, workspace
from relance.services.disputes_and_promises import DisputeResolution, PromiseReset
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, is_htmx, page, redirect, signed_in

router = Router()


def _show(
    person: SignedIn, invoice_id: str, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response[str]:
    cursor = router.current_event.get_query_string_value("timeline") or None
    shown = workspace.invoice_page(person.principal, invoice_id, cursor)
    return page(
        router,
        person,
        "invoice.html",
        status=status,
        nav="customers",
        p=shown,
        i=shown.invoice,
        errors=errors or {},
        today=clock.now().date(),
        timeline=shown.timeline,
        base=f"/invoices/{invoice_id}",
        names=shown.names,
        **_timeline_forms(shown.customer.id, invoice_id),
    )


def _timeline_forms(customer_id: str, invoice_id: str) -> dict[str, Any]:
    """The timeline's forms (notes pinned, deleted, given files; replies) act on the customer's page,
    which comes back here."""
    return {"timeline_posts_to": f"/customers/{customer_id}", "timeline_back": f"/invoices/{invoice_id}"}


@router.get("/invoices/<invoice_id>")
def invoice_page(invoice_id: str) -> Response[str]:
    """The page; ``?timeline=<cursor>`` from htmx is the timeline's next page alone (scrolling)."""
    person = signed_in(router)
    cursor = router.current_event.get_query_string_value("timeline") or None
    if cursor and is_htmx(router.current_event):
        more = workspace.invoice_page(person.principal, invoice_id, cursor)
        return page(
            router,
            person,
            "invoice.html",
            block="timeline_rows",
            timeline=more.timeline,
            base=f"/invoices/{invoice_id}",
            names=more.names,
            **_timeline_forms(more.customer.id, invoice_id),
        )
    return _show(person, invoice_id)


def _promised_for(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise Invalid("please give the date they promised", {"promisedFor": "a date"}) from error


def _do(person: SignedIn, invoice_id: str, fields: dict[str, list[str]]) -> None:
    principal = person.principal
    intent = first(fields, "do")
    comment = first(fields, "comment") or None
    if intent == "dispute":
        disputes_and_promises.raise_dispute(
            principal, invoice_id, Dispute(reason=first(fields, "reason") or "-", comment=comment)
        )
    elif intent == "resolve":
        disputes_and_promises.resolve_dispute(principal, invoice_id, DisputeResolution(comment=comment))
    elif intent == "promise":
        disputes_and_promises.record_promise(
            principal, invoice_id, _promised_for(first(fields, "promisedFor")), comment
        )
    elif intent == "reset-promise":
        disputes_and_promises.reset_promise(principal, invoice_id, PromiseReset(comment=comment))
    else:
        raise Invalid("unknown action", {"do": "not something this page does"})


@router.post("/invoices/<invoice_id>")
def invoice_form(invoice_id: str) -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    try:
        try:
            _do(person, invoice_id, fields)
        except ValidationError as error:
            raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error
    except Invalid as refused:
        errors = {"form": first(fields, "do"), "message": refused.message, **refused.fields}
        return _show(person, invoice_id, errors=errors, status=422)
    except Conflict as refused:
        errors = {"form": first(fields, "do"), "message": refused.message}
        return _show(person, invoice_id, errors=errors, status=409)
    return redirect(f"/invoices/{invoice_id}", person)
