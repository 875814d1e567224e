"""Saved views of the customer list, and CSV imports."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.organizations import Principal
from relance.services import imports, views
from relance.services.imports import ImportReport, ImportRequest
from relance.services.views import View, ViewFields

router = Router()
Caller = Annotated[Principal, Depends(caller)]


@router.get("/v1/views", tags=["views"], summary="Saved views of the customer list")
def list_views(principal: Caller) -> Page[View]:
    return Page[View](items=views.list_views(principal))


@router.post("/v1/views", status_code=201, tags=["views"], summary="Save a view (filter, sort, columns)")
def create_view(principal: Caller, body: ViewFields) -> tuple[View, int]:
    return views.create_view(principal, body), 201


@router.get("/v1/views/<view_id>", tags=["views"], summary="A saved view")
def get_view(principal: Caller, view_id: str) -> View:
    return views.get_view(principal, view_id)


@router.put("/v1/views/<view_id>", tags=["views"], summary="Replace a saved view")
def replace_view(principal: Caller, view_id: str, body: ViewFields) -> View:
    return views.replace_view(principal, view_id, body)


@router.delete("/v1/views/<view_id>", status_code=204, tags=["views"], summary="Delete a saved view")
def delete_view(principal: Caller, view_id: str) -> tuple[None, int]:
    views.delete_view(principal, view_id)
    return None, 204


@router.post("/v1/imports", tags=["imports"], summary="Import customers, contacts or invoices from CSV")
def import_csv(principal: Caller, body: ImportRequest) -> ImportReport:
    return imports.import_csv(principal, body)
