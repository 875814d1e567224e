"""The local QuickBooks Online stand-in answers as QuickBooks and Intuit's OAuth server do (no network:
werkzeug's test client in front of ``LocalQuickBooks.handle``)."""

import base64
import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from local.quickbooks import LocalQuickBooks, Query, QueryError
from relance import clock

REALM = "9341455130166501"


@pytest.fixture
def company() -> LocalQuickBooks:
    return LocalQuickBooks("http://quickbooks.test", "client", "secret", "RT-1", "verifier")


@pytest.fixture
def http(company: LocalQuickBooks) -> Client:
    def app(environ, start_response):
        answer = company.handle(Request(environ)) or Response("not the stand-in's", 404)
        return answer(environ, start_response)

    return Client(app)


def basic(client_id: str = "client", secret: str = "secret") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def refresh(http: Client, token: str, **auth: str) -> Response:
    return http.post(
        "/dev/quickbooks/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=basic(**auth),
    )


def bearer(http: Client) -> dict[str, str]:
    answer = refresh(http, "RT-1").get_json()
    return {"Authorization": f"Bearer {answer['access_token']}", "Accept": "application/json"}


def query(http: Client, text: str, headers: dict[str, str], **params: str) -> dict:
    answer = http.post(
        f"/dev/quickbooks/v3/company/{REALM}/query",
        data=text,
        headers={**headers, "Content-Type": "application/text"},
        query_string=params,
    )
    return json.loads(answer.get_data(as_text=True))


# ---------------------------------------------------------------- OAuth


def test_the_discovery_document_names_the_stand_ins_token_endpoint(http):
    document = http.get("/dev/quickbooks/.well-known/openid_configuration").get_json()

    assert document["token_endpoint"] == "http://quickbooks.test/dev/quickbooks/oauth2/v1/tokens/bearer"


def test_a_refresh_rotates_the_refresh_token_and_the_replaced_one_serves_once_more(http, company):
    first = refresh(http, "RT-1").get_json()
    assert first["refresh_token"] != "RT-1" == company._previous_refresh
    assert (first["token_type"], first["expires_in"]) == ("bearer", 3600)

    assert refresh(http, "RT-1").status_code == 200  # the replaced one, once more
    refused = refresh(http, "RT-1")

    assert (refused.status_code, refused.get_json()) == (400, {"error": "invalid_grant"})


def test_a_wrong_client_secret_is_invalid_client(http):
    refused = refresh(http, "RT-1", secret="guessed")

    assert (refused.status_code, refused.get_json()) == (401, {"error": "invalid_client"})


# ---------------------------------------------------------------- the API's refusals


def test_a_token_it_did_not_issue_is_a_401_and_another_company_a_403(http):
    headers = bearer(http)

    invoice = f"/dev/quickbooks/v3/company/{REALM}/invoice/101"

    assert http.get(invoice, headers={"Authorization": "Bearer not-issued"}).status_code == 401
    assert http.get(invoice.replace(REALM, "123"), headers=headers).status_code == 403
    assert http.get(invoice, headers=headers).status_code == 200


def test_refusing_answers_429_with_retry_after_then_serves_again(http, company):
    headers = bearer(http)
    company.refuse_next(times=1, retry_after=7)

    refused = http.get(f"/dev/quickbooks/v3/company/{REALM}/customer/1", headers=headers)
    served = http.get(f"/dev/quickbooks/v3/company/{REALM}/customer/1", headers=headers)

    assert (refused.status_code, refused.headers["Retry-After"]) == (429, "7")
    assert "ThrottleExceeded" in refused.get_data(as_text=True)
    assert served.get_json()["Customer"]["DisplayName"] == "Acme Hardware Supply"


def test_a_record_it_does_not_have_is_fault_610(http):
    answer = http.get(f"/dev/quickbooks/v3/company/{REALM}/invoice/999", headers=bearer(http))

    assert answer.status_code == 400
    assert answer.get_json()["Fault"]["Error"][0]["code"] == "610"


# ---------------------------------------------------------------- queries


def test_a_query_pages_by_startposition_and_maxresults_in_id_order(http):
    headers = bearer(http)

    first = query(http, "SELECT * FROM Invoice ORDERBY Id STARTPOSITION 1 MAXRESULTS 10", headers)["QueryResponse"]
    last = query(http, "SELECT * FROM Invoice ORDERBY Id STARTPOSITION 21 MAXRESULTS 10", headers)["QueryResponse"]
    past = query(http, "SELECT * FROM Invoice ORDERBY Id STARTPOSITION 31 MAXRESULTS 10", headers)

    assert [i["Id"] for i in first["Invoice"]] == [str(n) for n in range(101, 111)]
    assert (first["startPosition"], first["maxResults"]) == (1, 10)
    assert [i["Id"] for i in last["Invoice"]] == [str(n) for n in range(121, 131)]
    assert past["QueryResponse"] == {}


def test_a_query_reads_active_customers_unless_asked(http):
    headers = bearer(http)

    active = query(http, "SELECT * FROM Customer", headers)["QueryResponse"]["Customer"]
    every = query(http, "SELECT * FROM Customer WHERE Active IN (true, false)", headers)["QueryResponse"]["Customer"]

    assert len(active) == 11
    assert len(every) == 12


def test_where_conditions_join_with_and_and_compare_references_by_value(http):
    headers = bearer(http)

    found = query(
        http,
        "SELECT * FROM Invoice WHERE CustomerRef = '1' AND Id IN ('101', '103', '120') ORDERBY Id DESC",
        headers,
    )["QueryResponse"]["Invoice"]
    count = query(http, "select count(*) from Payment where CustomerRef = '5'", headers)

    assert [i["Id"] for i in found] == ["103", "101"]
    assert count["QueryResponse"] == {"totalCount": 1}


def test_invoice_link_comes_only_when_asked(http):
    headers = bearer(http)
    text = "SELECT * FROM Invoice WHERE Id = '101'"

    plain = query(http, text, headers)["QueryResponse"]["Invoice"][0]
    linked = query(http, text, headers, include="invoiceLink")["QueryResponse"]["Invoice"][0]

    assert "InvoiceLink" not in plain
    assert http.get(linked["InvoiceLink"].removeprefix("http://quickbooks.test")).content_type == "application/pdf"


@pytest.mark.parametrize(
    "text", ["SELECT * FROM Vendor", "SELECT Id FROM Invoice", "SELECT * FROM Invoice MAXRESULTS 1001",
             "SELECT * FROM Invoice WHERE Balance"],
)  # fmt: skip
def test_a_query_it_cannot_read_is_refused(text):
    with pytest.raises(QueryError):
        Query.parse(text)


# ---------------------------------------------------------------- change data capture and payments


def test_change_data_capture_answers_changes_since_and_deleted_records(http, company):
    headers = bearer(http)
    time.sleep(0.002)  # QuickBooks' times are in milliseconds: the seed's are before ``since``, the changes after
    since = clock.now().isoformat(timespec="milliseconds")
    time.sleep(0.002)
    created = company.new_invoice(customer_id="3", notify=False)
    company.delete_invoice(invoice_id="104", notify=False)

    answer = http.get(
        f"/dev/quickbooks/v3/company/{REALM}/cdc",
        headers=headers,
        query_string={"entities": "Customer,Invoice", "changedSince": since},
    ).get_json()
    too_old = http.get(
        f"/dev/quickbooks/v3/company/{REALM}/cdc",
        headers=headers,
        query_string={"entities": "Invoice", "changedSince": (clock.now() - timedelta(days=31)).isoformat()},
    )

    (invoices,) = answer["CDCResponse"][0]["QueryResponse"]
    assert [(i["Id"], i.get("status")) for i in invoices["Invoice"]] == [(created["Id"], None), ("104", "Deleted")]
    assert too_old.status_code == 400


def test_a_payment_lowers_the_invoice_balance_and_a_repeated_request_id_answers_the_first(http, company):
    headers = {**bearer(http), "Content-Type": "application/json"}
    body = {
        "CustomerRef": {"value": "1"},
        "TotalAmt": "2200.00",
        "TxnDate": clock.now().date().isoformat(),
        "Line": [{"Amount": "2200.00", "LinkedTxn": [{"TxnId": "103", "TxnType": "Invoice"}]}],
    }
    url = f"/dev/quickbooks/v3/company/{REALM}/payment"

    first = http.post(url, json=body, headers=headers, query_string={"requestid": "pay_1"}).get_json()
    again = http.post(url, json=body, headers=headers, query_string={"requestid": "pay_1"}).get_json()
    over = http.post(url, json=body, headers=headers, query_string={"requestid": "pay_2"})

    assert first["Payment"]["Id"] == again["Payment"]["Id"]
    assert company.records["Invoice"]["103"]["Balance"] == Decimal(0)
    assert over.status_code == 400  # nothing left to pay


# ---------------------------------------------------------------- the dev page


def test_the_dev_pages_buttons_change_the_company_and_return_to_the_dev_page(http, company):
    invoices = len(company.records["Invoice"])

    pressed = http.post("/dev/quickbooks/changes/new-invoice", headers={"Accept": "text/html"})
    by_script = http.post("/dev/quickbooks/changes/delete-customer", headers={"Accept": "application/json"})

    assert (pressed.status_code, pressed.headers["Location"]) == (303, "/dev")
    assert len(company.records["Invoice"]) == invoices + 1
    assert by_script.get_json()["Active"] is False
    assert http.get("/dev/quickbooks").get_json()["settings"]["realmId"] == REALM


def test_webhooks_go_to_the_organization_the_runtime_names_until_one_is_subscribed():
    organization = {"id": "org_first"}
    company = LocalQuickBooks("http://q.test", "c", "s", "r", "v", subscriber=lambda: organization.get("id"))

    assert company.webhook_url == "http://q.test/v1/integrations/quickbooks/webhooks/org_first"
    company.subscribe("org_other")
    assert company.webhook_url == "http://q.test/v1/integrations/quickbooks/webhooks/org_other"
    company.subscribe(None)
    assert company.webhook_url is None


def test_a_change_with_nothing_left_to_change_is_a_409(http, company):
    for invoice in company.records["Invoice"].values():
        invoice["Balance"] = Decimal(0)

    answer = http.post("/dev/quickbooks/changes/payment", headers={"Accept": "application/json"})

    assert answer.status_code == 409
