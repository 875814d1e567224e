"""Notifications: the bell in the top bar (its unread count, loaded by htmx after the page and every
minute, with the automatic-actions banner), the list, marked read one by one; each opens what it is
about (marked read on the way)."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.concurrency import together
from relance.errors import Invalid
from relance.services import notifications, organizations
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, is_htmx, page, redirect, signed_in

router = Router()
KINDS = {
    "mention": "Mention",
    "assigned": "Yours now",
    "reply": "Customer reply",
    "contact_invalidated": "Contact invalidated",
    "dispute_opened": "Dispute",
    "promise_to_pay": "Promise to pay",
    "promise_broken": "Promise broken",
    "portal_message": "Portal message",
    "payment_in_flight_expired": "Payment never arrived",
}


def link_of(item: dict[str, Any]) -> str:
    """Where a notification leads: a task given to them, their To do; its invoice, its customer (at the
    timeline entry), else the list."""
    if item.get("kind") == "assigned":  # a task given to them: their To do
        return "/actions"
    invoices = item.get("invoiceIds") or []
    if len(invoices) == 1:
        return f"/invoices/{invoices[0]}"
    if item.get("customerId"):
        return f"/customers/{item['customerId']}#tl-{item.get('noteId') or item.get('about', '')}"
    return "/notifications"


@router.get("/notifications")
def notifications_page() -> Response[str]:
    """The list; ``?part=bell`` from htmx is the top bar's status alone (``top_status``)."""
    person = signed_in(router)
    if router.current_event.get_query_string_value("part") == "bell" and is_htmx(router.current_event):
        return _top_status(person)
    listed = notifications.list_notifications(person.principal, limit=100)
    return page(
        router,
        person,
        "notifications.html",
        nav="notifications",
        items=listed["items"],
        unread=listed["unread"],
        kinds=KINDS,
        link_of=link_of,
    )


def _top_status(person: SignedIn) -> Response[str]:
    """What the top bar shows of the person's state, asked for by htmx once a page is there and every
    minute after: the bell's unread count and, out of band, the banner while automatic actions are off
    — the person's notifications and the organization read together, one round trip."""
    principal = person.principal
    listed, organization = together(
        lambda: notifications.list_notifications(principal, limit=1),
        lambda: organizations.get_organization(principal.organization_id),
    )
    return page(
        router,
        person,
        "layout.html",
        block="top_status",
        unread=listed["unread"],
        automatic_actions_off=not organization.settings.automatic_actions,
    )


@router.post("/notifications")
def notifications_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    intent = first(fields, "do")
    notification_id = first(fields, "notification")
    if intent not in ("read", "open"):
        raise Invalid("unknown action", {"do": "not something this page does"})
    listed = notifications.list_notifications(person.principal, limit=100)["items"]
    item = next((i for i in listed if i["id"] == notification_id), None)
    if item is not None and not item["read"]:
        notifications.mark_read(person.principal, notification_id)
    if intent == "open" and item is not None:
        return redirect(link_of(item), person)
    return redirect("/notifications", person)
