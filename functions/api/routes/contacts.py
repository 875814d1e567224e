"""Contacts of customers, and positions."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.customers import Contact, ContactFields, ContactPatch, Position, PositionFields
from relance.domain.organizations import Principal
from relance.services import contacts

router = Router()
Caller = Annotated[Principal, Depends(caller)]


@router.get("/v1/customers/<customer_id>/contacts", tags=["contacts"], summary="A customer's contacts")
def list_contacts(principal: Caller, customer_id: str) -> Page[Contact]:
    return Page[Contact](items=contacts.list_contacts(principal, customer_id))


@router.post("/v1/customers/<customer_id>/contacts", status_code=201, tags=["contacts"], summary="Add a contact")
def create_contact(principal: Caller, customer_id: str, body: ContactFields) -> tuple[Contact, int]:
    return contacts.create_contact(principal, customer_id, body), 201


@router.get("/v1/contacts/<contact_id>", tags=["contacts"], summary="A contact")
def get_contact(principal: Caller, contact_id: str) -> Contact:
    return contacts.get_contact(principal, contact_id)


@router.patch("/v1/contacts/<contact_id>", tags=["contacts"], summary="Change a contact")
def update_contact(principal: Caller, contact_id: str, body: ContactPatch) -> Contact:
    return contacts.update_contact(principal, contact_id, body)


@router.delete("/v1/contacts/<contact_id>", status_code=204, tags=["contacts"], summary="Delete a contact")
def delete_contact(principal: Caller, contact_id: str) -> tuple[None, int]:
    contacts.delete_contact(principal, contact_id)
    return None, 204


@router.post("/v1/contacts/<contact_id>/mark-valid", tags=["contacts"], summary="Clear a bounce")
def mark_valid(principal: Caller, contact_id: str) -> Contact:
    return contacts.mark_valid(principal, contact_id)


@router.get("/v1/positions", tags=["positions"], summary="Positions contacts can hold")
def list_positions(principal: Caller) -> Page[Position]:
    return Page[Position](items=contacts.list_positions(principal))


@router.post("/v1/positions", status_code=201, tags=["positions"], summary="Add a position")
def create_position(principal: Caller, body: PositionFields) -> tuple[Position, int]:
    return contacts.create_position(principal, body), 201


@router.patch("/v1/positions/<position_id>", tags=["positions"], summary="Rename a position")
def rename_position(principal: Caller, position_id: str, body: PositionFields) -> Position:
    return contacts.rename_position(principal, position_id, body)


@router.delete("/v1/positions/<position_id>", status_code=204, tags=["positions"], summary="Delete a position")
def delete_position(
    principal: Caller,
    position_id: str,
    move_to: Annotated[str | None, Query(alias="moveTo", description="position that takes its contacts")] = None,
) -> tuple[None, int]:
    contacts.delete_position(principal, position_id, move_to)
    return None, 204
