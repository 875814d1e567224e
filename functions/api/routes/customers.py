"""Customers: CRUD, upsert by external id, the filtered list, the summary."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ValidationError

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.customers import Customer, CustomerFields, CustomerPatch
from relance.domain.organizations import Principal
from relance.errors import Invalid, validation_fields
from relance.services import bulk, customers, spreadsheets, summaries
from relance.services.bulk import BulkRequest, BulkResult
from relance.services.customers import CustomerFilter
from relance.services.summaries import CustomerSummary

router = Router()
Caller = Annotated[Principal, Depends(caller)]


def customer_filter(**values: object) -> CustomerFilter:
    """The filter from query parameters (validation errors name the parameter)."""
    try:
        return CustomerFilter.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as error:
        raise Invalid("invalid filter", validation_fields(error.errors())) from error


def _custom_field_filters(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, wanted = value.partition(":")
        if not sep or not key:
            raise Invalid("custom field filters are key:value", {"customField": f"'{value}' is not key:value"})
        pairs[key] = wanted
    return pairs


@router.get("/v1/customers", tags=["customers"], summary="List customers (filters on every column)")
def list_customers(
    principal: Caller,
    q: Annotated[str | None, Query(max_length=100, description="name or external id contains")] = None,
    account_manager_id: Annotated[str | None, Query(alias="accountManagerId")] = None,
    dunning_plan_id: Annotated[str | None, Query(alias="dunningPlanId", description="'none' for no workflow")] = None,
    rating: Annotated[str | None, Query(pattern=r"^(A|B|C|D|none)(,(A|B|C|D|none))*$")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    outstanding_min: Annotated[int | None, Query(alias="outstandingMin")] = None,
    outstanding_max: Annotated[int | None, Query(alias="outstandingMax")] = None,
    overdue: bool | None = None,
    collection_paused: Annotated[bool | None, Query(alias="collectionPaused")] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    custom_field: Annotated[list[str] | None, Query(alias="customField", description="key:value")] = None,
    sort: str = "name",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[Customer]:
    filters = customer_filter(
        q=q,
        account_manager_id=account_manager_id,
        dunning_plan_id=dunning_plan_id,
        rating=rating.split(",") if rating else [],
        currency=currency,
        outstanding_min=outstanding_min,
        outstanding_max=outstanding_max,
        overdue=overdue,
        collection_paused=collection_paused,
        tags=tag or [],
        custom_fields=_custom_field_filters(custom_field or []),
    )
    items, next_cursor = customers.list_customers(principal, filters, sort, limit, cursor)
    return Page[Customer](items=items, next_cursor=next_cursor)


@router.get("/v1/customers/export.csv", tags=["customers"], summary="The customer list as CSV (same filters)")
def export_customers(
    principal: Caller,
    q: Annotated[str | None, Query(max_length=100)] = None,
    account_manager_id: Annotated[str | None, Query(alias="accountManagerId")] = None,
    dunning_plan_id: Annotated[str | None, Query(alias="dunningPlanId")] = None,
    rating: Annotated[str | None, Query(pattern=r"^(A|B|C|D|none)(,(A|B|C|D|none))*$")] = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    outstanding_min: Annotated[int | None, Query(alias="outstandingMin")] = None,
    outstanding_max: Annotated[int | None, Query(alias="outstandingMax")] = None,
    overdue: bool | None = None,
    collection_paused: Annotated[bool | None, Query(alias="collectionPaused")] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    custom_field: Annotated[list[str] | None, Query(alias="customField")] = None,
    sort: str = "name",
) -> Response[str]:
    filters = customer_filter(
        q=q,
        account_manager_id=account_manager_id,
        dunning_plan_id=dunning_plan_id,
        rating=rating.split(",") if rating else [],
        currency=currency,
        outstanding_min=outstanding_min,
        outstanding_max=outstanding_max,
        overdue=overdue,
        collection_paused=collection_paused,
        tags=tag or [],
        custom_fields=_custom_field_filters(custom_field or []),
    )
    body = spreadsheets.export_customers(principal, filters, sort)
    headers = {"Content-Disposition": 'attachment; filename="customers.csv"'}
    return Response(200, "text/csv; charset=utf-8", body, headers=headers)


@router.post("/v1/customers/bulk", tags=["customers"], summary="Set fields on customers picked by filter or ids")
def bulk_update(principal: Caller, body: BulkRequest) -> BulkResult:
    return bulk.apply(principal, body)


@router.post("/v1/customers", tags=["customers"], summary="Create a customer")
def create_customer(principal: Caller, body: CustomerFields) -> tuple[Customer, int]:
    return customers.create_customer(principal, body), 201


@router.put("/v1/customers/external/<external_id>", tags=["customers"], summary="Create or replace by externalId")
def upsert_customer(principal: Caller, external_id: str, body: CustomerFields) -> tuple[Customer, int]:
    customer, created = customers.upsert_by_external_id(principal, external_id, body)
    return customer, 201 if created else 200


@router.get("/v1/customers/<customer_id>", tags=["customers"], summary="A customer with its summary")
def get_customer(principal: Caller, customer_id: str) -> CustomerSummary:
    return summaries.customer_summary(principal, customer_id)


@router.patch("/v1/customers/<customer_id>", tags=["customers"], summary="Change some fields of a customer")
def update_customer(principal: Caller, customer_id: str, body: CustomerPatch) -> Customer:
    return customers.update_customer(principal, customer_id, body)


@router.delete("/v1/customers/<customer_id>", tags=["customers"], summary="Delete a customer without ledger")
def delete_customer(principal: Caller, customer_id: str) -> tuple[None, int]:
    customers.delete_customer(principal, customer_id)
    return None, 204
