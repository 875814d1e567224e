import pytest
from pydantic import ValidationError

from relance.settings import Settings


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "relance-prod-Table")
    monkeypatch.setenv("DOCUMENTS_BUCKET", "relance-docs")
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("ORGANIZATION_REQUESTS_PER_SECOND", "40")
    monkeypatch.delenv("SYNC_WORKER_FUNCTION", raising=False)

    settings = Settings.from_environment()

    assert settings.table_name == "relance-prod-Table"
    assert settings.documents_bucket == "relance-docs"
    assert settings.stage == "prod"
    assert settings.organization_requests_per_second == 40
    assert settings.sync_worker_function is None


def test_a_bad_value_names_its_variable(monkeypatch):
    monkeypatch.setenv("ORGANIZATION_REQUESTS_PER_SECOND", "0")

    with pytest.raises(ValidationError, match="ORGANIZATION_REQUESTS_PER_SECOND"):
        Settings.from_environment()
