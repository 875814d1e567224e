from relance.settings import Settings


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TABLE_NAME", "relance-prod-Table")
    monkeypatch.setenv("DOCUMENTS_BUCKET", "relance-docs")
    monkeypatch.setenv("STAGE", "prod")

    settings = Settings()

    assert settings.table_name == "relance-prod-Table"
    assert settings.documents_bucket == "relance-docs"
    assert settings.stage == "prod"
