"""Sync from Salesforce, end to end: the connector (simple-salesforce, over HTTPS) reads the local
runtime's Salesforce stand-in, and the sync service applies what it reads on template.yaml's table.

The organization's customers come from its billing tool (here: created as the API would, with the
demo's customer numbers as external ids); Salesforce brings their account owners and contacts.
Connecting queues the first run, which the sync worker does through the sync queue. Time moves only by
jumps, so no scheduled run starts unless a test lets the clock reach one (every 15 minutes from the
runtime's start).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from local.demo import seed
from local.runtime import LocalRuntime
from local.salesforce import CONSUMER_KEY, CONSUMER_SECRET, LocalSalesforce
from relance import clock
from relance.domain.customers import CustomerFields
from relance.domain.integrations import Connection, ConnectionFields
from relance.domain.organizations import Organization, Principal
from relance.services import contacts, customers, integrations
from relance.services.organization_admin import create_organization
from relance.settings import get_settings
from relance.storage import customers as customer_store
from relance.storage import users as user_store
from relance.sync.salesforce import SETTLING
from tests.integration.helpers import clock_start, eventually, jump

NUMBERS = [f"ERP-{1000 + n}" for n in range(10)]
OWNERS = ["marc.manager@demo.relance.dev", "sofia.manager@demo.relance.dev", "jade.sales@demo.relance.dev"]


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """template.yaml on moto, the clock moving only by jumps (no scheduled run unless a test jumps to it)."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, time_scale=0, clock_start=clock_start()).start(
        seed=lambda: seed(demo=False)
    ) as started:
        yield started


@pytest.fixture
def org(runtime: LocalRuntime) -> LocalSalesforce:
    """The Salesforce stand-in's company, as seeded (a test's changes never reach the next test)."""
    runtime.salesforce.reset()
    return runtime.salesforce


@pytest.fixture
def organization(org: LocalSalesforce) -> Organization:
    created, _ = create_organization("Salesforce Sync Ltd")
    return created


@pytest.fixture
def admin(organization: Organization) -> Iterator[Principal]:
    principal = Principal(organization_id=organization.id, role="admin", principal_id="user:usr_admin")
    for number in NUMBERS:  # the billing tool's customers
        customers.create_customer(principal, CustomerFields(external_id=number, name=f"Customer {number}"))
    yield principal
    integrations.put_connection(principal, "salesforce", ConnectionFields(enabled=False))  # off the schedule


def connect(runtime: LocalRuntime, admin: Principal, secret: str = CONSUMER_SECRET, **settings: Any) -> Connection:
    """Connect Salesforce; the connection once its first run (queued by connecting) is over."""
    integrations.put_connection(
        admin,
        "salesforce",
        ConnectionFields(
            enabled=True,
            settings={"instanceUrl": "https://relance-demo.my.salesforce.com", **settings},
            secret={"consumerKey": CONSUMER_KEY, "consumerSecret": secret},
        ),
    )

    def first_run_over() -> Connection | None:
        runtime.settle()
        found = integrations.get_connection(admin, "salesforce")
        return found if found.last_run is not None and found.last_run.finished_at is not None else None

    return eventually(first_run_over, what="the first run of the Salesforce connection")


def customer(organization: Organization, number: str) -> dict[str, Any]:
    customer_id = customer_store.customer_id_by_external_id(organization.id, number)
    assert customer_id is not None
    return customer_store.get_customer(organization.id, customer_id, consistent=True) or {}


def emails(admin: Principal, organization: Organization, number: str) -> list[str]:
    return sorted(c.email for c in contacts.list_contacts(admin, customer(organization, number)["id"]))


def user_id(organization: Organization, email: str) -> str:
    user = user_store.find_by_email(organization.id, email)
    assert user is not None, email
    return str(user["id"])


def settle(runtime: LocalRuntime) -> None:
    """Let the changes just made in Salesforce become readable (they wait ``SETTLING``)."""
    runtime.settle()
    clock.advance(SETTLING + timedelta(seconds=5))


def test_a_backfill_brings_account_owners_as_account_managers_and_contacts_with_titles(
    runtime, org, organization, admin
):
    connection = connect(runtime, admin)

    assert connection.last_run is not None and connection.last_run.outcome == "done", connection.last_run
    owners = [user_store.find_by_email(organization.id, email) for email in OWNERS]
    assert [o and o["role"] for o in owners] == ["account_manager"] * 3  # jade was invited: she was no user yet
    for index, number in enumerate(NUMBERS):
        assert customer(organization, number)["accountManagerIds"] == [owners[index % 3]["id"]]
    acme = {c.email: c for c in contacts.list_contacts(admin, customer(organization, "ERP-1000")["id"])}
    assert sorted(acme) == ["emma.smith@acme.example", "liam.bernard@acme.example", "noah.garcia@acme.example"]
    assert (acme["emma.smith@acme.example"].job_title, acme["emma.smith@acme.example"].phone) == (
        "Chief Financial Officer",
        "+1 555 0200",
    )
    [error], _ = integrations.list_errors(admin, "salesforce")
    assert (error.kind, error.message) == (
        "contact",
        "the contact 'Lucas Nguyen' could not be read: it has no email, and Relance writes to contacts by email",
    )
    assert emails(admin, organization, "ERP-1004") == ["ava.rossi@stark.example"]  # the rest went on
    assert integrations.get_connection(admin, "salesforce").status == "connected"


def test_a_change_in_salesforce_arrives_once(runtime, org, organization, admin):
    connect(runtime, admin)
    added = org.new_contact(org.account("ERP-1002")["Id"], Title="Head of Accounts Payable")
    jade = next(u["Id"] for u in org.records["User"].values() if u["FirstName"] == "Jade")
    org.change_owner(org.account("ERP-1003")["Id"], jade)
    settle(runtime)

    integrations.run_sync(organization.id, "salesforce")
    again = integrations.run_sync(organization.id, "salesforce")

    assert emails(admin, organization, "ERP-1002").count(added["Email"]) == 1
    [contact] = [
        c for c in contacts.list_contacts(admin, customer(organization, "ERP-1002")["id"]) if c.email == added["Email"]
    ]
    assert contact.job_title == "Head of Accounts Payable"
    managers = customer(organization, "ERP-1003")["accountManagerIds"]
    assert user_id(organization, OWNERS[2]) in managers
    assert all(counts.created == counts.updated == 0 for counts in again.counts.values())


def test_a_contact_deleted_in_salesforce_is_deleted_here(runtime, org, organization, admin):
    connect(runtime, admin)
    assert "emma.smith@acme.example" in emails(admin, organization, "ERP-1000")
    emma = next(c for c in org.records["Contact"].values() if c["Email"] == "emma.smith@acme.example")
    org.delete("Contact", emma["Id"])
    settle(runtime)

    integrations.run_sync(organization.id, "salesforce")

    assert emails(admin, organization, "ERP-1000") == ["liam.bernard@acme.example", "noah.garcia@acme.example"]


def test_each_customer_salesforce_knows_gets_its_relance_page_written_back_once(runtime, org, organization, admin):
    connect(runtime, admin)

    integrations.run_sync(organization.id, "salesforce")

    page = f"{get_settings().public_base_url}/customers/{customer(organization, 'ERP-1000')['id']}"
    assert org.account("ERP-1000")["Customer_AR_Portal__c"] == page
    patches = [path for method, path, status in org.calls if method == "PATCH" and status == 204]
    assert len(patches) == len(NUMBERS)  # once per customer, not once per run


def test_accounts_become_customers_when_salesforce_creates_them(runtime, org, organization):
    principal = Principal(organization_id=organization.id, role="admin", principal_id="user:usr_admin")

    connect(runtime, principal, createCustomers=True)

    assert [customer(organization, number)["name"] for number in NUMBERS[:2]] == ["Acme Industries", "Globex Logistics"]
    assert customer_store.customer_id_by_external_id(organization.id, "ERP-1010") is None  # a prospect
    integrations.put_connection(principal, "salesforce", ConnectionFields(enabled=False))


def test_a_rate_limited_salesforce_is_retried(runtime, org, organization, admin):
    org.refuse_next(2, status=429, retry_after=0)

    run = connect(runtime, admin).last_run

    assert run is not None and run.outcome == "done", run
    assert [status for _, _, status in org.calls[:4]] == [200, 429, 429, 200]  # sign-in, refused twice, answered
    assert len(customer(organization, "ERP-1000")["accountManagerIds"]) == 1


def test_a_salesforce_still_refusing_after_the_retries_stops_the_run_and_the_next_resumes(
    runtime, org, organization, admin
):
    org.refuse_next(20, status=503, retry_after=0)

    connection = connect(runtime, admin)
    org.refusals.clear()
    resumed = integrations.run_sync(organization.id, "salesforce")

    stopped = connection.last_run
    assert stopped is not None and stopped.outcome == "unavailable" and "SERVER_UNAVAILABLE" in (stopped.message or "")
    assert connection.status == "connected"
    assert resumed.outcome == "done"
    assert len(customer(organization, "ERP-1000")["accountManagerIds"]) == 1


def test_credentials_salesforce_refuses_mark_the_connection_failing(runtime, org, organization, admin):
    connection = connect(runtime, admin, secret="not-the-secret")

    assert connection.last_run is not None and connection.last_run.outcome == "refused"
    assert connection.status == "failing" and "consumer key and secret" in (connection.message or "")


def test_a_change_arrives_with_the_scheduled_run_once(runtime, org, organization, admin):
    connect(runtime, admin)
    added = org.new_contact(org.account("ERP-1006")["Id"])
    settle(runtime)

    jump(runtime, timedelta(minutes=15))  # a scheduled run, at the latest
    after_one = integrations.get_connection(admin, "salesforce").last_run
    jump(runtime, timedelta(minutes=15))  # and another
    after_two = integrations.get_connection(admin, "salesforce").last_run

    assert emails(admin, organization, "ERP-1006").count(added["Email"]) == 1
    assert after_one is not None and after_two is not None and after_two.started_at > after_one.started_at
    assert all(counts.created == counts.updated == 0 for counts in after_two.counts.values())


def test_a_webhook_for_salesforce_is_answered_400_its_changes_come_with_the_schedule(runtime, org, organization, admin):
    connect(runtime, admin)

    answer = requests.post(
        f"{runtime.base_url}/v1/integrations/salesforce/webhooks/{organization.id}",
        data=b'{"sObject": {"Id": "003000000000001AAA"}}',
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    assert answer.status_code == 400
    assert "scheduled sync" in answer.text
