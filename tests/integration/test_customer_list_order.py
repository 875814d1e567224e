"""The customer list in name order reads GSI3 a batch at a time: the same rows, order and cursors as the
sort in memory, for every filter and scope; renames move a customer; the nightly run places customers
written before the index."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from relance import clock
from relance.domain.customers import CustomerFields, CustomerPatch
from relance.domain.organizations import Principal
from relance.domain.users import ApiKeyFields, Role, UserFields
from relance.errors import Invalid
from relance.services import customers, users, workspace
from relance.services.customers import CustomerFilter
from relance.services.nightly import run_for_organization
from relance.storage import directory as directory_store
from relance.storage import keys
from relance.storage import organizations as org_store
from relance.storage.table import table
from tests.integration.web import admin

NAMES = ["acme", "Acme", "ACME", "Zeta", "zeta", "Émile", "beta", "Beta Corp", "b", "100 Rue", "Ünal", "omega"]


@pytest.fixture(scope="module")
def manager(runtime) -> Principal:
    fields = UserFields(email="manny@example.com", name="Manny Manager", role=Role.ACCOUNT_MANAGER)
    person = users.create_user(admin(runtime), fields)
    org_id = admin(runtime).organization_id
    return Principal(organization_id=org_id, role="account_manager", principal_id=person.id, user_id=person.id)


@pytest.fixture(scope="module")
def listed(runtime, manager) -> list[Any]:
    """Three customers of each name (ties broken by id), a tag on every other, a manager on every third."""
    made = []
    for n in range(3):
        for i, name in enumerate(NAMES):
            fields = CustomerFields(
                name=name,
                tags=["retail"] if (i + n) % 2 else [],
                account_manager_ids=[manager.user_id] if (i + n) % 3 == 0 else [],
            )
            made.append(customers.create_customer(admin(runtime), fields))
    return made


def walk(principal: Principal, filters: CustomerFilter, sort: str, limit: int) -> list[str]:
    """Every page of the list, following the cursor: the customer ids in order."""
    ids: list[str] = []
    cursor = None
    for _ in range(100):
        page, cursor = customers.list_customers(principal, filters, sort, limit, cursor)
        assert len(page) <= limit and (cursor is None or len(page) == limit)
        ids += [c.id for c in page]
        if cursor is None:
            return ids
    raise AssertionError("the cursor never ran out")


def in_memory(principal: Principal, filters: CustomerFilter, sort: str) -> list[str]:
    return [c.id for c in customers.sorted_customers(customers.matching_customers(principal, filters), sort)]


@pytest.mark.parametrize("sort", ["name", "-name"])
@pytest.mark.parametrize("limit", [1, 4, 7, 200])
@pytest.mark.parametrize("filters", [CustomerFilter(), CustomerFilter(tags=["retail"]), CustomerFilter(q="ZET")])
def test_pages_in_name_order_are_the_sort_in_memory(runtime, manager, listed, sort, limit, filters):
    everyone = admin(runtime)

    for principal in (everyone, manager):
        assert walk(principal, filters, sort, limit) == in_memory(principal, filters, sort)
    theirs = {c.id for c in listed if manager.user_id in c.account_manager_ids}
    assert set(walk(manager, filters, sort, limit)) <= theirs


def test_a_cursor_of_the_other_direction_or_a_forged_one_is_422(runtime, listed):
    _, cursor = customers.list_customers(admin(runtime), CustomerFilter(), "name", 2, None)

    for sort, bad in (("-name", cursor), ("name", "WyJ4Il0="), ("name", "garbage!")):
        with pytest.raises(Invalid) as refused:
            customers.list_customers(admin(runtime), CustomerFilter(), sort, 2, bad)
        assert "cursor" in refused.value.fields


def test_a_rename_moves_the_customer_in_name_order(runtime, listed):
    moved = listed[0]
    customers.update_customer(admin(runtime), moved.id, CustomerPatch(name="000 first of all"))
    try:
        page, _ = customers.list_customers(admin(runtime), CustomerFilter(), "name", 1, None)
        assert page[0].id == moved.id
        assert walk(admin(runtime), CustomerFilter(), "name", 5) == in_memory(admin(runtime), CustomerFilter(), "name")
    finally:
        customers.update_customer(admin(runtime), moved.id, CustomerPatch(name=moved.name))


def test_the_nightly_run_places_customers_written_before_the_index(runtime, listed):
    org_id = admin(runtime).organization_id
    unplaced = listed[1]
    table().update_item(Key=keys.customer(org_id, unplaced.id), UpdateExpression="REMOVE GSI3PK, GSI3SK")
    assert unplaced.id not in walk(admin(runtime), CustomerFilter(), "name", 200)

    report = run_for_organization(org_id, date(2099, 1, 1) if clock.now().year < 2099 else date(2199, 1, 1))

    assert report["placedInNameOrder"] == 1
    assert walk(admin(runtime), CustomerFilter(), "name", 200) == in_memory(admin(runtime), CustomerFilter(), "name")


def test_a_directory_written_before_gsi3_is_placed_on_its_first_read(runtime, manager):
    org_id = admin(runtime).organization_id
    before = workspace.directory(admin(runtime))
    position = keys.position(org_id, before.positions[0].id)
    for key in (keys.organization(org_id), keys.user(org_id, manager.user_id), position):
        table().update_item(Key=key, UpdateExpression="REMOVE GSI3PK, GSI3SK")

    after = workspace.directory(admin(runtime))

    assert after == before and manager.user_id in after.users and after.organization.id == org_id
    assert directory_store.place_directory(org_id) == 0  # all placed


def test_a_directory_older_than_its_last_kind_is_placed_again_on_its_first_read(runtime):
    org_id = admin(runtime).organization_id
    api_key = users.create_api_key(admin(runtime), ApiKeyFields(name="Billing sync"))
    stored = next(k for k in org_store.list_api_keys(org_id) if k["id"] == api_key.id)
    table().update_item(Key=keys.api_key(org_id, stored["secretHash"]), UpdateExpression="REMOVE GSI3PK, GSI3SK")
    table().update_item(Key=keys.organization(org_id), UpdateExpression="REMOVE directoryVersion")  # version 1

    after = workspace.directory(admin(runtime))

    assert after.people[f"apikey:{api_key.id}"] == ("Billing sync", "API")
    assert directory_store.place_directory(org_id) == 0  # all placed, the organization at the last version


def test_the_customer_page_reads_a_customer_written_before_its_gsi1_place(runtime, listed):
    org_id = admin(runtime).organization_id
    customer = listed[2]
    table().update_item(Key=keys.customer(org_id, customer.id), UpdateExpression="REMOVE GSI1PK, GSI1SK")

    shown = workspace.customer_page(admin(runtime), customer.id)

    assert shown.customer.id == customer.id and shown.item["id"] == customer.id
