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


def test_only_a_change_of_the_send_window_replans_the_customers():
    from datetime import date

    from relance.domain.organizations import OrganizationSettings, send_window_changed

    base = OrganizationSettings(holidays=[date(2026, 12, 25), date(2026, 1, 1)])

    assert not send_window_changed(base, base.model_copy(update={"sender_name": "AR team"}))
    assert not send_window_changed(base, base.model_copy(update={"holidays": [date(2026, 1, 1), date(2026, 12, 25)]}))
    for change in (
        {"timezone": "Asia/Tokyo"},
        {"send_time": "10:00"},
        {"business_days": [0, 1, 2, 3, 4, 5]},
        {"holidays": [date(2026, 12, 24)]},
    ):
        assert send_window_changed(base, base.model_copy(update=change)), change


def test_automatic_actions_are_on_by_default_and_only_switching_them_back_on_replans():
    from relance.domain.organizations import automatic_actions_back_on

    on, off = OrganizationSettings(), OrganizationSettings.model_validate({"automaticActions": False})

    assert on.automatic_actions and not off.automatic_actions
    assert automatic_actions_back_on(off, on)
    assert not automatic_actions_back_on(on, off) and not automatic_actions_back_on(on, on)
