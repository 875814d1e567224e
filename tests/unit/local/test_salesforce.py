"""The local Salesforce stand-in answers SOQL as Salesforce does, for the subset the connector sends."""

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from local.salesforce import CONSUMER_KEY, CONSUMER_SECRET, LocalSalesforce, SalesforceFault, parse_soql


@pytest.fixture(scope="module")
def org() -> LocalSalesforce:
    return LocalSalesforce()


def test_a_query_filters_sorts_limits_and_nests_the_parents_fields(org):
    answer = org.query(
        "SELECT Id, Email, Account.AccountNumber FROM Contact "
        "WHERE Account.AccountNumber IN ('ERP-1000', 'ERP-1001') AND (Email != null OR Title = 'x') "
        "ORDER BY Email DESC LIMIT 3"
    )

    assert answer["totalSize"] == 3 and answer["done"] is True
    emails = [r["Email"] for r in answer["records"]]
    assert emails == sorted(emails, reverse=True)
    first = answer["records"][0]
    assert first["attributes"] == {"type": "Contact", "url": f"/services/data/v59.0/sobjects/Contact/{first['Id']}"}
    assert first["Account"]["AccountNumber"] in {"ERP-1000", "ERP-1001"}
    assert set(first["Account"]) == {"attributes", "AccountNumber"}


def test_text_compares_without_regard_to_case_as_in_soql(org):
    answer = org.query("SELECT Id FROM Account WHERE accountnumber = 'erp-1003'")

    assert [r["Id"] for r in answer["records"]] == [org.account("ERP-1003")["Id"]]


def test_a_long_answer_comes_in_batches_linked_by_next_records_url():
    org = LocalSalesforce()
    org.batch_size = 5

    first = org.query("SELECT Id FROM Contact ORDER BY Id")
    endpoint, locator = first["nextRecordsUrl"].rsplit("/", 2)[1:]
    second = org.more(endpoint, locator)

    assert (first["done"], len(first["records"]), first["totalSize"]) == (False, 5, len(org.records["Contact"]))
    assert second["records"][0]["Id"] > first["records"][-1]["Id"]
    with pytest.raises(SalesforceFault) as spent:
        org.more(endpoint, locator)
    assert spent.value.code == "INVALID_QUERY_LOCATOR"


def test_deleted_rows_show_in_query_all_only():
    org = LocalSalesforce()
    gone = org.delete("Contact", next(iter(org.records["Contact"])))
    soql = "SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true"

    assert org.query(soql)["records"] == []
    assert [(r["Id"], r["IsDeleted"]) for r in org.query(soql, include_deleted=True)["records"]] == [(gone["Id"], True)]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Nope__c FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Owner.Nope = 'x'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity", "INVALID_TYPE"),
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name LIKE 'A%'", "MALFORMED_QUERY"),
    ],
)
def test_what_salesforce_would_refuse_is_refused_with_its_error_code(org, soql, code):
    with pytest.raises(SalesforceFault) as refused:
        org.query(soql)
    assert refused.value.code == code


def test_a_soql_datetime_and_escaped_strings_are_read():
    query = parse_soql(r"SELECT Id FROM Account WHERE Name = 'O\'Brien' AND SystemModstamp > 2026-03-01T09:30:00+00:00")

    assert query.where is not None
    names = [part.value for part in query.where.parts]
    assert names[0] == "O'Brien"
    assert names[1].isoformat() == "2026-03-01T09:30:00+00:00"


def test_the_api_wants_a_token_from_the_connected_apps_credentials():
    org = LocalSalesforce()
    client = Client(org.api)

    refused = client.get("/services/data/v59.0/query", query_string={"q": "SELECT Id FROM Account"})
    wrong = client.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": CONSUMER_KEY})
    token = client.post(
        "/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": CONSUMER_KEY, "client_secret": CONSUMER_SECRET},
    ).json["access_token"]
    answered = client.get(
        "/services/data/v59.0/query",
        query_string={"q": "SELECT Id FROM Account"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert (refused.status_code, refused.json[0]["errorCode"]) == (401, "INVALID_SESSION_ID")
    assert (wrong.status_code, wrong.json["error"]) == (400, "invalid_client")
    assert answered.status_code == 200 and answered.json["totalSize"] == 12


def test_the_dev_page_buttons_change_the_org():
    org = LocalSalesforce()
    client = Client(lambda environ, start: (org.handle(Request(environ)) or Response(status=404))(environ, start))
    before = set(org.records["Contact"])
    owner = org.account("ERP-1001")["OwnerId"]

    added = client.post("/dev/salesforce/contacts")  # on the first customer account
    handed = client.post("/dev/salesforce/owner")  # the next one goes to the next owner

    assert (added.status_code, handed.status_code) == (303, 303)
    [new] = [c for i, c in org.records["Contact"].items() if i not in before]
    assert (new["AccountId"], new["Title"]) == (org.account("ERP-1000")["Id"], "Accounts Payable Specialist")
    assert org.account("ERP-1001")["OwnerId"] != owner
    assert "Salesforce: new contact" in client.get("/dev/salesforce").get_data(as_text=True)
