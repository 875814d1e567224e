"""Custom field definitions, and checking customer values against them."""

from __future__ import annotations

from typing import Any

from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.organizations import Principal
from relance.errors import Invalid, NotFound
from relance.services.access import require_admin
from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


def list_definitions(org_id: str) -> list[CustomFieldDefinition]:
    """Query ``ORG#<org>``, SK begins with ``CF#``."""
    return [CustomFieldDefinition.model_validate(i) for i in under_prefix(keys.custom_fields_prefix(org_id))]


def save_definition(principal: Principal, definition: CustomFieldDefinition) -> CustomFieldDefinition:
    require_admin(principal)
    item = {
        **keys.custom_field(principal.organization_id, definition.key),
        **keys.in_directory(principal.organization_id, keys.custom_field(principal.organization_id, definition.key)),
        **definition.model_dump(mode="json"),
    }
    table().put_item(Item=item)
    return definition


def delete_definition(principal: Principal, key: str) -> None:
    require_admin(principal)
    if get(keys.custom_field(principal.organization_id, key)) is None:
        raise NotFound("custom field not found")
    delete(keys.custom_field(principal.organization_id, key))


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
