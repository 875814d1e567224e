"""The Salesforce connector's rules: what it reads, how it maps it, how it pages, what it refuses.

No network: the unmodified simple-salesforce and requests talk to the local stand-in's REST API
(``local/salesforce.py``) through an in-process transport, so every answer is the JSON Salesforce
sends. The retries of 429 over HTTP and the sign-in over HTTPS are the integration test's
(tests/integration/test_sync_salesforce.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from pydantic import ValidationError
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

from local.salesforce import CONSUMER_KEY, CONSUMER_SECRET, PASSWORD, SECURITY_TOKEN, USERNAME, LocalSalesforce
from relance import clock
from relance.domain.sync import (
    Batch,
    CustomerLink,
    PaymentWriteBack,
    RecordError,
    Removal,
    SourceAccountOwner,
    SourceContactUpdate,
    SourceCustomer,
)
from relance.settings import get_settings
from relance.sync import SourceRefused, SourceUnavailable, WebhookRefused, connector, salesforce
from relance.sync.salesforce import SalesforceConnector, Secret, Settings

SALESFORCE = "https://relance-demo.my.salesforce.test"
APP = {"consumerKey": CONSUMER_KEY, "consumerSecret": CONSUMER_SECRET}


class InProcess(BaseAdapter):
    """A requests transport that hands each request to a WSGI app in this process."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.client = Client(app)

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        answer = self.client.open(
            url.path, method=request.method, query_string=url.query, headers=dict(request.headers), data=request.body
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(dict(answer.headers))
        response._content = answer.get_data()
        response.url, response.request, response.encoding = request.url or "", request, "utf-8"
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSalesforce]:
    """The stand-in's company, the clock held still at now, the connector signing in at the stand-in."""
    clock.configure(time_scale=0)
    monkeypatch.setenv("SALESFORCE_LOGIN_URL", SALESFORCE)
    monkeypatch.delenv("SALESFORCE_CA_BUNDLE", raising=False)
    get_settings.cache_clear()
    stand_in = LocalSalesforce()
    stand_in.base_url = SALESFORCE
    yield stand_in
    clock.reset()
    get_settings.cache_clear()


def connected(org: LocalSalesforce, secret: dict[str, str] | None = None, **settings: Any) -> SalesforceConnector:
    session = requests.Session()
    session.mount(SALESFORCE, InProcess(org.api))
    return SalesforceConnector(
        Settings.model_validate({"instanceUrl": SALESFORCE, **settings}), Secret.model_validate(secret or APP), session
    )


def run(source: SalesforceConnector, cursor: str | None = None) -> tuple[Batch, str | None]:
    """Every page of one run, as one batch, and the cursor it ends on."""
    whole = Batch()
    while True:
        page = source.changes(cursor)
        whole.records += page.records
        whole.removals += page.removals
        whole.errors += page.errors
        cursor = page.cursor
        if not page.more:
            return whole, cursor


def of(batch: Batch, kind: type[Any]) -> list[Any]:
    return [record for record in batch.records if isinstance(record, kind)]


def settle() -> None:
    """Let the changes just made become readable (older than ``SETTLING``)."""
    clock.advance(salesforce.SETTLING + timedelta(seconds=1))


# ---------------------------------------------------------------- the backfill


def test_a_backfill_gives_the_owners_of_the_customer_accounts_and_their_contacts_with_titles(org):
    batch, _ = run(connected(org))

    owners = {o.email: o for o in of(batch, SourceAccountOwner)}
    assert sorted(owners) == [
        "jade.sales@demo.relance.dev",
        "marc.manager@demo.relance.dev",
        "sofia.manager@demo.relance.dev",
    ]
    assert owners["marc.manager@demo.relance.dev"].customer_external_ids == [
        "ERP-1000",
        "ERP-1003",
        "ERP-1006",
        "ERP-1009",
    ]
    assert (owners["marc.manager@demo.relance.dev"].first_name, owners["marc.manager@demo.relance.dev"].last_name) == (
        "Marc",
        "Dubois",
    )
    updates = {u.customer_external_id: u.contacts for u in of(batch, SourceContactUpdate)}
    assert sorted(updates) == [f"ERP-{1000 + n}" for n in range(10)]  # the prospects' accounts are not read
    acme = {c.email: c for c in updates["ERP-1000"]}
    assert acme["emma.smith@acme.example"].job_title == "Chief Financial Officer"
    assert acme["emma.smith@acme.example"].phone == "+1 555 0200"
    assert (acme["emma.smith@acme.example"].first_name, acme["emma.smith@acme.example"].last_name) == ("Emma", "Smith")


def test_salesforce_creates_no_customer_unless_the_settings_say_so(org):
    enriching, _ = run(connected(org))
    creating, _ = run(connected(org, createCustomers=True))

    assert of(enriching, SourceCustomer) == []
    customers = of(creating, SourceCustomer)
    assert [(c.external_id, c.name) for c in customers][:2] == [
        ("ERP-1000", "Acme Industries"),
        ("ERP-1001", "Globex Logistics"),
    ]
    assert len(customers) == 10
    first_owner = next(i for i, r in enumerate(creating.records) if isinstance(r, SourceAccountOwner))
    assert first_owner > max(i for i, r in enumerate(creating.records) if isinstance(r, SourceCustomer))


def test_the_account_id_can_be_the_match(org):
    batch, _ = run(connected(org, matchField="Id", createCustomers=True))

    acme = org.account("ERP-1000")
    assert acme["Id"] in {c.external_id for c in of(batch, SourceCustomer)}
    assert acme["Id"] in {u.customer_external_id for u in of(batch, SourceContactUpdate)}
    assert len(of(batch, SourceCustomer)) == 12  # every account has an Id: prospects too


def test_a_contact_without_an_email_is_reported_and_the_others_are_read(org):
    batch, _ = run(connected(org))

    nameless = next(c for c in org.records["Contact"].values() if not c["Email"])
    assert batch.errors == [
        RecordError(
            kind="contact",
            external_id=nameless["Id"],
            message="the contact 'Lucas Nguyen' could not be read: "
            "it has no email, and Relance writes to contacts by email",
        )
    ]
    stark = next(u for u in of(batch, SourceContactUpdate) if u.customer_external_id == "ERP-1004")
    assert [c.email for c in stark.contacts] == ["ava.rossi@stark.example"]


# ---------------------------------------------------------------- deltas


def test_a_change_after_the_cursor_comes_once_and_only_once(org):
    source = connected(org)
    _, cursor = run(source)
    contact = org.new_contact(org.account("ERP-1002")["Id"], Title="Head of Accounts Payable")
    org.change_owner(org.account("ERP-1005")["Id"], org.account("ERP-1000")["OwnerId"])
    settle()

    changed, cursor = run(source, cursor)
    again, _ = run(source, cursor)

    assert of(changed, SourceAccountOwner) == [
        SourceAccountOwner(
            external_id=org.account("ERP-1000")["OwnerId"],
            email="marc.manager@demo.relance.dev",
            first_name="Marc",
            last_name="Dubois",
            customer_external_ids=["ERP-1005"],
        )
    ]
    [update] = of(changed, SourceContactUpdate)
    assert update.customer_external_id == "ERP-1002"
    assert [(c.email, c.job_title) for c in update.contacts] == [(contact["Email"], "Head of Accounts Payable")]
    assert again.records == again.removals == again.errors == []


def test_a_change_is_read_once_it_has_settled(org):
    source = connected(org)
    _, cursor = run(source)
    org.new_contact()

    too_soon, cursor = run(source, cursor)
    settle()
    settled, _ = run(source, cursor)

    assert too_soon.records == []
    assert len(of(settled, SourceContactUpdate)) == 1


def test_rows_stamped_in_the_same_second_are_read_across_pages_each_once(org, monkeypatch):
    monkeypatch.setattr(salesforce, "PAGE_SIZE", 4)
    org.batch_size = 3  # Salesforce answers in smaller batches: query_all follows nextRecordsUrl
    source = connected(org, createCustomers=True)
    _, cursor = run(source)
    moment = clock.now()
    added = [
        org.insert("Contact", moment, AccountId=org.account("ERP-1007")["Id"], Email=f"p{n}@x.example")
        for n in range(9)
    ]
    settle()

    batch, _ = run(source, cursor)

    emails = [c.email for u in of(batch, SourceContactUpdate) for c in u.contacts]
    assert sorted(emails) == sorted(c["Email"] for c in added)


def test_a_deleted_contact_is_removed_by_its_email(org):
    source = connected(org)
    _, cursor = run(source)
    emma = next(c for c in org.records["Contact"].values() if c["Email"] == "emma.smith@acme.example")
    org.delete("Contact", emma["Id"])
    settle()

    batch, _ = run(source, cursor)

    assert batch.removals == [Removal(kind="contact", external_id="emma.smith@acme.example")]


def test_a_contact_deleted_while_another_keeps_its_email_is_not_removed(org):
    source = connected(org)
    _, cursor = run(source)
    emma = next(c for c in org.records["Contact"].values() if c["Email"] == "emma.smith@acme.example")
    org.delete("Contact", emma["Id"])  # a merge keeps the other one
    org.new_contact(org.account("ERP-1000")["Id"], Email="Emma.Smith@acme.example")
    settle()

    batch, _ = run(source, cursor)

    assert batch.removals == []


def test_a_deleted_account_removes_its_customer_only_when_salesforce_creates_customers(org):
    enriching, creating = connected(org), connected(org, createCustomers=True)
    (_, enriched), (_, created) = run(enriching), run(creating)
    org.delete("Account", org.account("ERP-1008")["Id"])
    settle()

    assert run(enriching, enriched)[0].removals == []
    assert run(creating, created)[0].removals == [Removal(kind="customer", external_id="ERP-1008")]


def test_an_inactive_owner_is_reported_not_invited(org):
    source = connected(org)
    _, cursor = run(source)
    jade = next(u for u in org.records["User"].values() if u["FirstName"] == "Jade")
    org.update("User", jade["Id"], IsActive=False)
    org.change_owner(org.account("ERP-1000")["Id"], jade["Id"])
    settle()

    batch, _ = run(source, cursor)

    assert of(batch, SourceAccountOwner) == []
    assert batch.errors == [
        RecordError(
            kind="account_owner",
            external_id=jade["Id"],
            message="Jade Martin owns the account 'Acme Industries' but is inactive in Salesforce: not invited",
        )
    ]


def test_another_match_field_reads_every_account_again(org):
    _, cursor = run(connected(org))

    batch, _ = run(connected(org, matchField="Id"), cursor)

    assert len(of(batch, SourceContactUpdate)) == 12


# ---------------------------------------------------------------- write-back, webhooks


def test_the_customer_page_link_is_written_into_the_accounts_field(org):
    source = connected(org)
    url = "https://relance.example/customers/cus_01"

    assert source.write_back_link(CustomerLink(customer_external_id="ERP-1002", url=url)) is True
    assert org.account("ERP-1002")["Customer_AR_Portal__c"] == url
    assert source.write_back_link(CustomerLink(customer_external_id="ERP-4040", url=url)) is False


def test_no_link_field_writes_nothing(org):
    source = connected(org, linkField="")

    assert source.write_back_link(CustomerLink(customer_external_id="ERP-1002", url="https://r.example/c")) is False
    assert org.calls == []


def test_a_link_field_the_org_lacks_is_refused_saying_what_to_fix(org):
    source = connected(org, linkField="Relance_Page__c")

    with pytest.raises(SourceRefused, match=r"No such column 'Relance_Page__c' on entity 'Account'.*link field"):
        source.write_back_link(CustomerLink(customer_external_id="ERP-1002", url="https://r.example/c"))


def test_salesforce_keeps_no_payments_and_sends_no_webhooks(org):
    source = connected(org)
    payment = PaymentWriteBack(
        payment_id="pay_1",
        customer_external_id="ERP-1000",
        invoice_external_id="INV-1",
        currency="EUR",
        amount=100,
        received_at=clock.now().date(),
    )

    assert source.write_back_payment(payment) is None
    assert source.rotated_secret() is None
    with pytest.raises(WebhookRefused, match="scheduled sync"):
        source.webhook(b"{}", {})


# ---------------------------------------------------------------- signing in, refusals


def test_a_users_login_with_its_security_token_signs_in_too(org):
    batch, _ = run(connected(org, {"username": USERNAME, "password": PASSWORD, "securityToken": SECURITY_TOKEN}))

    assert len(of(batch, SourceAccountOwner)) == 3


@pytest.mark.parametrize(
    ("secret", "says"),
    [
        ({"consumerKey": CONSUMER_KEY, "consumerSecret": "wrong"}, "client credentials \\(invalid_client"),
        ({"username": USERNAME, "password": "wrong", "securityToken": SECURITY_TOKEN}, "login \\(INVALID_LOGIN"),
    ],
)
def test_credentials_salesforce_refuses_are_refused_saying_what_to_check(org, secret, says):
    with pytest.raises(SourceRefused, match=says):
        connected(org, secret).changes(None)


def test_an_expired_session_signs_in_again_once(org):
    source = connected(org)
    source.changes(None)
    org.expire_sessions()

    source.changes(None)

    refused, signed_in, answered = org.calls[-3:]
    assert (refused[2], signed_in[1:], answered[2]) == (401, ("/services/oauth2/token", 200), 200)
    assert answered[1] == refused[1]  # the same query, sent again


def test_a_session_refused_again_after_signing_in_again_is_refused(org):
    org.sessions_refused = True

    with pytest.raises(SourceRefused, match="INVALID_SESSION_ID"):
        connected(org).changes(None)
    assert sum(1 for c in org.calls if c[1] == "/services/oauth2/token") == 2


@pytest.mark.parametrize(("status", "retry_after"), [(429, 7.0), (503, 7.0), (403, None)])
def test_a_salesforce_over_its_limits_is_unavailable_for_now(org, status, retry_after):
    source = connected(org)
    org.refuse_next(status=status, retry_after=retry_after)

    with pytest.raises(SourceUnavailable) as refused:
        source.changes(None)
    assert refused.value.retry_after == retry_after
    assert "REQUEST_LIMIT_EXCEEDED" in str(refused.value) or "SERVER_UNAVAILABLE" in str(refused.value)


# ---------------------------------------------------------------- settings


def test_the_connection_settings_and_secret_take_what_salesforce_needs():
    settings = Settings.model_validate({"instanceUrl": "https://acme.my.salesforce.com", "linkField": " "})

    assert (settings.match_field, settings.link_field, settings.sync_contacts, settings.create_customers) == (
        "AccountNumber",
        None,
        True,
        False,
    )
    for wrong in (
        {"instanceUrl": "http://acme.my.salesforce.com"},
        {"instanceUrl": SALESFORCE, "matchField": "Name, Id"},
    ):
        with pytest.raises(ValidationError):
            Settings.model_validate(wrong)
    with pytest.raises(ValidationError, match="consumerKey and consumerSecret"):
        Secret.model_validate({"consumerKey": CONSUMER_KEY})
    assert Secret.model_validate({"username": USERNAME, "password": PASSWORD}).security_token is None


def test_the_connector_is_found_by_its_name(org):
    found = connector("salesforce", {"instanceUrl": SALESFORCE}, APP)

    assert isinstance(found, SalesforceConnector)
    assert org.calls == []  # nothing is sent before it is used
