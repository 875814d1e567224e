import pytest
from pydantic import ValidationError

from relance.domain.organizations import OrganizationSettings


def test_defaults_are_what_an_ar_team_expects():
    settings = OrganizationSettings()

    assert settings.portal_link_validity_days == 7
    assert settings.timezone == "UTC"


def test_settings_are_camel_case_on_the_wire():
    settings = OrganizationSettings.model_validate({"portalLinkValidityDays": 30, "timezone": "Europe/Paris"})

    assert settings.model_dump(by_alias=True)["portalLinkValidityDays"] == 30


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("portalLinkValidityDays", 0),
        ("portalLinkValidityDays", 1001),
        ("timezone", "Mars/Base"),
        ("defaultCurrency", "XYZ"),
    ],
)
def test_out_of_range_settings_are_refused(field, value):
    with pytest.raises(ValidationError) as error:
        OrganizationSettings.model_validate({field: value})

    assert error.value.errors()[0]["loc"] == (field,)
