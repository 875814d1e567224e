"""Unmatched replies (admins): mail that matched no customer, read here and given to a customer,
where it lands on the timeline as if it had matched."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.errors import Conflict, Invalid
from relance.services import inbound
from relance.services.access import require_admin
from relance.services.customers import CustomerFilter, matching_customers
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()


def _show(person: SignedIn, *, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    replies = inbound.list_unmatched(person.principal)  # admins only (else 403)
    known = sorted(matching_customers(person.principal, CustomerFilter()), key=lambda c: c.name.lower())
    return page(
        router,
        person,
        "replies.html",
        status=status,
        nav="replies",
        replies=replies,
        customers=known,
        errors=errors or {},
    )


@router.get("/replies")
def replies_page() -> Response[str]:
    return _show(signed_in(router))


@router.post("/replies")
def replies_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    reply_id = first(fields, "reply")
    try:
        if first(fields, "do") != "assign":
            raise Invalid("unknown action", {"do": "not something this page does"})
        customer_id = first(fields, "customer")
        if not customer_id:
            raise Invalid("please choose the customer", {"customer": "a customer"})
        inbound.assign(person.principal, reply_id, customer_id)
    except (Invalid, Conflict) as refused:
        errors = {"reply": reply_id, "message": refused.message}
        return _show(person, errors=errors, status=refused.status)
    return redirect("/replies", person)
