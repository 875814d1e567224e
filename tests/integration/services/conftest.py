"""Service tests: a use case called directly on template.yaml's table in moto (the module's
``runtime``), no HTTP; each test in an organization of its own, so none meets another's records."""

from __future__ import annotations

import pytest

from relance.domain.customers import Customer, CustomerFields
from relance.domain.organizations import Organization, Principal
from relance.services.customers import create_customer
from relance.services.organization_admin import create_organization


@pytest.fixture
def organization(runtime) -> Organization:
    created, _ = create_organization("Service Test Ltd")
    return created


@pytest.fixture
def admin(organization: Organization) -> Principal:
    return Principal(organization_id=organization.id, role="admin", principal_id="user:usr_admin", user_id="usr_admin")


def account_manager(organization: Organization, user_id: str) -> Principal:
    return Principal(
        organization_id=organization.id, role="account_manager", principal_id=f"user:{user_id}", user_id=user_id
    )


@pytest.fixture
def manager(organization: Organization) -> Principal:
    return account_manager(organization, "usr_manager")


@pytest.fixture
def customer(admin: Principal) -> Customer:
    return create_customer(admin, CustomerFields(name="Acme Trading", language="en"))
