"""Custom field definitions saved, listed and deleted, and customer values checked against them
(services.custom_fields on the table)."""

from __future__ import annotations

import pytest

from relance.domain.custom_fields import CustomFieldDefinition, FieldType
from relance.errors import Forbidden, Invalid, NotFound
from relance.services import custom_fields
from relance.storage import custom_fields as store

REGION = CustomFieldDefinition(key="region", label="Region", type=FieldType.SELECT, options=["North", "South"])
SEATS = CustomFieldDefinition(key="seats", label="Seats", type=FieldType.NUMBER)


def test_a_saved_definition_is_stored_and_listed(organization, admin):
    saved = custom_fields.save_definition(admin, REGION)

    assert saved == REGION
    assert custom_fields.list_definitions(organization.id) == [REGION]
    assert store.get_definition(organization.id, "region") is not None


def test_saving_a_definition_again_replaces_it(organization, admin):
    custom_fields.save_definition(admin, REGION)
    renamed = REGION.model_copy(update={"label": "Sales region", "options": ["North", "South", "East"]})

    custom_fields.save_definition(admin, renamed)

    assert custom_fields.list_definitions(organization.id) == [renamed]


def test_an_account_manager_defines_no_field(organization, manager):
    with pytest.raises(Forbidden):
        custom_fields.save_definition(manager, SEATS)

    assert custom_fields.list_definitions(organization.id) == []


def test_values_of_an_unknown_field_or_of_the_wrong_kind_are_refused_naming_each(organization, admin):
    custom_fields.save_definition(admin, REGION)
    custom_fields.save_definition(admin, SEATS)

    with pytest.raises(Invalid) as refused:
        custom_fields.validate_values(organization.id, {"region": "West", "seats": "12", "colour": "red"})

    assert refused.value.fields == {
        "customFields.region": "must be one of North, South",
        "customFields.seats": "must be a whole number",
        "customFields.colour": "no such custom field",
    }


def test_values_that_fit_their_fields_pass_and_none_clears_a_field(organization, admin):
    custom_fields.save_definition(admin, REGION)
    custom_fields.save_definition(admin, SEATS)

    custom_fields.validate_values(organization.id, {"region": "North", "seats": None})


def test_a_deleted_definition_is_gone_and_deleting_it_again_is_not_found(organization, admin):
    custom_fields.save_definition(admin, SEATS)

    custom_fields.delete_definition(admin, "seats")

    assert store.get_definition(organization.id, "seats") is None
    with pytest.raises(NotFound):
        custom_fields.delete_definition(admin, "seats")
