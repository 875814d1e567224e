"""Custom field definitions, and checking customer values against them."""

from __future__ import annotations

from typing import Any

from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.organizations import Principal
from relance.errors import Invalid, NotFound
from relance.services.access import require_admin
from relance.storage import custom_fields as store


def list_definitions(org_id: str) -> list[CustomFieldDefinition]:
    """The organization's custom fields."""
    return [CustomFieldDefinition.model_validate(i) for i in store.list_definitions(org_id)]


def save_definition(principal: Principal, definition: CustomFieldDefinition) -> CustomFieldDefinition:
    require_admin(principal)
    store.put_definition(principal.organization_id, definition.model_dump(mode="json"))
    return definition


def delete_definition(principal: Principal, key: str) -> None:
    require_admin(principal)
    if store.get_definition(principal.organization_id, key) is None:
        raise NotFound("custom field not found")
    store.delete_definition(principal.organization_id, key)


def validate_values(org_id: str, values: dict[str, Any]) -> None:
    """Refuse, naming each field, values of undefined fields or of the wrong type."""
    definitions = {d.key: d for d in list_definitions(org_id)}
    problems = {}
    for key, value in values.items():
        definition = definitions.get(key)
        problem = "no such custom field" if definition is None else definition.problem_with(value)
        if problem:
            problems[f"customFields.{key}"] = problem
    if problems:
        raise Invalid("invalid custom field values", problems)
