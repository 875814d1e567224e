"""Organizations and API keys on the single table (moto, through the local runtime)."""

from boto3.dynamodb.conditions import Attr

from relance.domain import api_keys
from relance.services.organization_admin import create_organization
from relance.services.organizations import authenticate_api_key, get_organization
from relance.storage import organizations
from relance.storage.table import table


def test_created_organization_is_stored_with_its_hashed_key(runtime):
    org, plaintext = create_organization("Acme Receivables")

    assert get_organization(org.id) == org
    parsed = api_keys.parse(plaintext)
    assert parsed is not None
    stored = organizations.get_api_key(org.id, parsed.secret_hash)
    assert stored is not None and stored["role"] == "admin"
    # The plaintext secret is stored nowhere (a test may scan; request paths never do).
    secret = plaintext.removeprefix(f"rk_{org.id}_")
    assert table().scan(FilterExpression=Attr("id").eq(secret) | Attr("name").eq(secret))["Items"] == []


def test_authenticate_returns_the_admin_principal_of_the_key(runtime):
    org, plaintext = create_organization("Keyed Ltd")

    principal = authenticate_api_key(plaintext)

    assert principal is not None
    assert principal.organization_id == org.id
    assert principal.role == "admin"


def test_a_key_never_opens_another_organization(runtime):
    first, first_key = create_organization("First")
    second, _ = create_organization("Second")
    forged = first_key.replace(first.id, second.id)

    assert authenticate_api_key(forged) is None


def test_every_organization_is_listed_for_the_nightly_fan_out(runtime):
    org, _ = create_organization("Listed")

    assert org.id in {o["id"] for o in organizations.list_all()}
