"""Bulk actions on customers picked by a filter or by ids: workflow, AMs, payment methods, custom fields."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from relance.domain.base import RelanceModel
from relance.domain.customers import CustomerPatch, CustomValue, PaymentMethods
from relance.domain.organizations import Principal
from relance.errors import Invalid
from relance.services.access import require_admin
from relance.services.customers import (
    CustomerFilter,
    check_references,
    matching_customers,
    update_customer,
)

MAX_IDS = 1000


class BulkSet(RelanceModel):
    dunning_plan_id: str | None = None
    # Only the fields sent are set; lists and maps are never null ([] or {} to clear).
    account_manager_ids: list[str] = Field(default_factory=list, max_length=20)
    payment_methods: PaymentMethods = Field(default_factory=PaymentMethods)
    custom_fields: dict[str, CustomValue] = Field(default_factory=dict)


class BulkRequest(RelanceModel):
    filter: CustomerFilter | None = None
    ids: list[str] | None = Field(default=None, max_length=MAX_IDS)
    set: BulkSet

    @model_validator(mode="after")
    def _one_selection(self) -> BulkRequest:
        if (self.filter is None) == (self.ids is None):
            raise PydanticCustomError("selection", "send either filter or ids")
        if not self.set.model_fields_set:
            raise PydanticCustomError("nothing_to_set", "set at least one field")
        return self


class BulkResult(RelanceModel):
    updated: int
    customer_ids: list[str]


def apply(principal: Principal, request: BulkRequest) -> BulkResult:
    """Set the same fields on every selected customer (custom fields merge into each one's)."""
    require_admin(principal)
    visible = {c.id: c for c in matching_customers(principal, request.filter or CustomerFilter())}
    ids = list(visible) if request.ids is None else request.ids
    unknown = [i for i in ids if i not in visible]
    if unknown:
        raise Invalid("unknown customers in the selection", {"ids": f"no such customer: {', '.join(unknown[:5])}"})
    changes: dict[str, Any] = request.set.model_dump(exclude_unset=True)
    check_references(principal, request.set.model_dump(by_alias=True, mode="json", exclude_unset=True))
    for customer_id in ids:
        patch = dict(changes)
        if "custom_fields" in patch:
            patch["custom_fields"] = {**visible[customer_id].custom_fields, **patch["custom_fields"]}
        update_customer(principal, customer_id, CustomerPatch(**patch))
    return BulkResult(updated=len(ids), customer_ids=ids)
