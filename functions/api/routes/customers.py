"""Customers: CRUD, upsert by external id, the filtered list, the summary."""

from datetime import date
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import Field, ValidationError

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.base import RelanceModel
from relance.domain.customers import Customer, CustomerFields, CustomerPatch
from relance.domain.money import SignedAmount
from relance.domain.organizations import Principal
from relance.errors import Invalid, validation_fields
from relance.services import bulk, customers, spreadsheets, summaries, team_portal_links
from relance.services.bulk import BulkRequest, BulkResult
from relance.services.customers import CustomerFilter
from relance.services.portal_links import PortalLink
from relance.services.summaries import CustomerSummary
from relance.services.team_portal_links import PortalLinkRequest

router = Router()
Caller = Annotated[Principal, Depends(caller)]


class CustomerQuery(RelanceModel):
    """The list's query parameters: a filter on every column, and a sort."""

    q: str | None = Field(default=None, max_length=100, description="name or external id contains")
    account_manager_id: str | None = None
    dunning_plan_id: str | None = Field(default=None, description="'none' for customers without a workflow")
    rating: str | None = Field(default=None, pattern=r"^(A|B|C|D|none)(,(A|B|C|D|none))*$")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    outstanding_min: SignedAmount | None = None
    outstanding_max: SignedAmount | None = None
    overdue: bool | None = None
    overdue_min: SignedAmount | None = None
    overdue_max: SignedAmount | None = None
    external_id: str | None = Field(default=None, max_length=100, description="equals; 'none' for customers without")
    average_payment_delay_min: int | None = None
    average_payment_delay_max: int | None = None
    last_reminder_from: date | None = None
    last_reminder_to: date | None = None
    never_reminded: bool | None = None
    collection_paused: bool | None = None
    collection_status: Literal["active", "paused", "none"] | None = None
    payment_method: list[Literal["card", "bank_transfer", "ach_debit", "sepa_debit"]] = Field(
        default_factory=list, description="each of these is offered to the customer"
    )
    tag: list[str] = Field(default_factory=list)
    custom_field: list[str] = Field(default_factory=list, description="key:value ('key:' for empty)")
    sort: str = Field(default="name", description="a column, '-' first for descending")

    def to_filter(self) -> CustomerFilter:
        values = {
            "q": self.q,
            "account_manager_id": self.account_manager_id,
            "dunning_plan_id": self.dunning_plan_id,
            "rating": self.rating.split(",") if self.rating else [],
            "currency": self.currency,
            "outstanding_min": self.outstanding_min,
            "outstanding_max": self.outstanding_max,
            "overdue": self.overdue,
            "overdue_min": self.overdue_min,
            "overdue_max": self.overdue_max,
            "external_id": self.external_id,
            "average_payment_delay_min": self.average_payment_delay_min,
            "average_payment_delay_max": self.average_payment_delay_max,
            "last_reminder_from": self.last_reminder_from,
            "last_reminder_to": self.last_reminder_to,
            "never_reminded": self.never_reminded,
            "collection_paused": self.collection_paused,
            "collection_status": self.collection_status,
            "payment_methods": self.payment_method,
            "tags": self.tag,
            "custom_fields": _custom_field_filters(self.custom_field),
        }
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
    query: Annotated[CustomerQuery, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[Customer]:
    items, next_cursor = customers.list_customers(principal, query.to_filter(), query.sort, limit, cursor)
    return Page[Customer](items=items, next_cursor=next_cursor)


CSV_RESPONSE: dict[int, OpenAPIResponse] = {
    200: {
        "description": "The customers as CSV, one line each after the header",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/v1/customers/export.csv",
    tags=["customers"],
    summary="The customer list as CSV (same filters)",
    responses=CSV_RESPONSE,
)
def export_customers(principal: Caller, query: Annotated[CustomerQuery, Query()]) -> Response[str]:
    body = spreadsheets.export_customers(principal, query.to_filter(), query.sort)
    headers = {"Content-Disposition": 'attachment; filename="customers.csv"'}
    return Response(200, "text/csv; charset=utf-8", body, headers=headers)


@router.post("/v1/customers/bulk", tags=["customers"], summary="Set fields on customers picked by filter or ids")
def bulk_update(principal: Caller, body: BulkRequest) -> BulkResult:
    return bulk.apply(principal, body)


@router.post("/v1/customers", status_code=201, tags=["customers"], summary="Create a customer")
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


@router.post(
    "/v1/customers/<customer_id>/portal-link",
    status_code=201,
    tags=["customers"],
    summary="A link to the customer's portal",
)
def portal_link(principal: Caller, customer_id: str, body: PortalLinkRequest | None = None) -> tuple[PortalLink, int]:
    return team_portal_links.create(principal, customer_id, body or PortalLinkRequest()), 201


@router.delete(
    "/v1/customers/<customer_id>", status_code=204, tags=["customers"], summary="Delete a customer without ledger"
)
def delete_customer(principal: Caller, customer_id: str) -> tuple[None, int]:
    customers.delete_customer(principal, customer_id)
    return None, 204


@router.delete(
    "/v1/customers/<customer_id>/portal-links",
    status_code=204,
    tags=["customers"],
    summary="Revoke every portal link of the customer: each answers as an unknown link",
)
def revoke_portal_links(principal: Caller, customer_id: str) -> tuple[None, int]:
    team_portal_links.revoke(principal, customer_id)
    return None, 204
