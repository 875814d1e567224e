"""The Cognito adapter names what the pool answers: no such identity, an address taken or refused (no AWS)."""

import boto3
import pytest
from botocore.stub import Stubber

from relance import user_pool
from relance.settings import get_settings


@pytest.fixture
def stubbed(monkeypatch):
    cognito = boto3.session.Session().client(
        "cognito-idp", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    monkeypatch.setattr(user_pool, "client", lambda service: cognito)
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_pool")
    get_settings.cache_clear()
    with Stubber(cognito) as stubber:
        yield stubber
    monkeypatch.undo()
    get_settings.cache_clear()


def test_an_address_without_identity_is_none(stubbed):
    stubbed.add_client_error("admin_get_user", service_error_code="UserNotFoundException", http_status_code=400)

    assert user_pool.get("nobody@acme.example") is None


def test_an_identity_says_whose_user_it_is(stubbed):
    attributes = [
        {"Name": "email", "Value": "Pat@Acme.example"},
        {"Name": "custom:organization_id", "Value": "org_a"},
        {"Name": "custom:user_id", "Value": "usr_p"},
    ]
    answer = {"Username": "pat@acme.example", "UserAttributes": attributes, "UserStatus": "FORCE_CHANGE_PASSWORD"}
    stubbed.add_response("admin_get_user", answer)

    identity = user_pool.get("pat@acme.example")

    assert identity is not None and identity.email == "pat@acme.example"
    assert identity.is_user("org_a", "usr_p") and not identity.is_user("org_b", "usr_p")
    assert identity.status == user_pool.NEVER_SIGNED_IN


@pytest.mark.parametrize(
    ("code", "raised"),
    [("UsernameExistsException", user_pool.AddressTaken), ("InvalidParameterException", user_pool.AddressRefused)],
)
def test_creating_an_identity_names_why_the_pool_refused_it(stubbed, code, raised):
    stubbed.add_client_error("admin_create_user", service_error_code=code, http_status_code=400)

    with pytest.raises(raised):
        user_pool.create("pat@acme.example", "org_a", "usr_p", "admin")
