"""What a visitor sends from the page: a payment, a message, a dispute, a promise to pay (each answered
with the page again, saying it was done)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.domain.portal import Dispute, PortalMessage, Promise
from relance.services import portal_requests
from views.base import form, link_url, model, redirect

router = Router()


@router.post("/portal/<token>/pay")
def pay(token: str) -> Response[str]:
    return redirect(portal_requests.pay(token, form(router).get("invoiceIds", [])))


@router.post("/portal/<token>/messages")
def message(token: str) -> Response[str]:
    fields = form(router)
    values = {name: fields.get(name, [""])[0] for name in ("body", "email", "name")}
    portal_requests.send_message(token, model(PortalMessage, values))
    return redirect(f"{link_url(token)}?done=message")


@router.post("/portal/<token>/disputes")
def dispute(token: str) -> Response[str]:
    fields = form(router)
    values = {name: fields.get(name, [""])[0] for name in ("reason", "comment")}
    portal_requests.dispute(token, fields.get("invoiceId", [""])[0], model(Dispute, values))
    return redirect(f"{link_url(token)}?done=dispute")


@router.post("/portal/<token>/promise")
def promise(token: str) -> Response[str]:
    fields = form(router)
    values = {
        "invoiceIds": fields.get("invoiceIds", []),
        "promisedFor": fields.get("promisedFor", [""])[0],
        "comment": fields.get("comment", [""])[0],
    }
    portal_requests.promise(token, model(Promise, values))
    return redirect(f"{link_url(token)}?done=promise")
