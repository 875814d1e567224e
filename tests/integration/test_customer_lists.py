"""Saved views, bulk actions, CSV export and CSV import, through the HTTP front."""

import csv
import io

import pytest


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.fixture
def tagged(api, url):
    """Three customers sharing a fresh tag, so each test sees only its own."""
    counter = iter(range(10**6))

    def make(*names, **fields):
        tag = f"t{next(counter)}x{id(names)}"
        made = []
        for name in names:
            response = api.post(url("/customers"), json={"name": name, "currency": "EUR", "tags": [tag], **fields})
            assert response.status_code == 201, response.text
            made.append(response.json())
        return tag, made

    return make


def test_saved_view_keeps_filter_sort_and_columns(api, url):
    body = {
        "name": "Late French accounts",
        "filter": {"overdue": True, "rating": ["C", "D"]},
        "sort": "-outstanding",
        "columns": [{"key": "name"}, {"key": "outstanding"}, {"key": "tags", "visible": False}],
    }

    created = api.post(url("/views"), json=body).json()
    renamed = api.put(url(f"/views/{created['id']}"), json={**body, "name": "Late accounts"}).json()
    listed = api.get(url("/views")).json()["items"]
    bad = api.post(url("/views"), json={"name": "x", "sort": "shoe-size", "filter": {"rating": ["E"]}})

    assert renamed["filter"]["rating"] == ["C", "D"]
    assert [c["key"] for c in renamed["columns"]] == ["name", "outstanding", "tags"]
    assert renamed["columns"][2]["visible"] is False
    assert "Late accounts" in [v["name"] for v in listed]
    assert bad.status_code == 422 and "filter.rating[0]" in bad.json()["error"]["fields"]
    assert api.delete(url(f"/views/{created['id']}")).status_code == 204
    assert api.get(url(f"/views/{created['id']}")).status_code == 404


def test_bulk_sets_fields_on_a_filtered_selection(api, url, tagged):
    api.post(
        url("/custom-fields"),
        json={"key": "region", "label": "Region", "type": "select", "options": ["north", "south"]},
    )
    tag, made = tagged("Bulk A", "Bulk B", "Bulk C")
    firm = next(w["id"] for w in api.get(url("/workflows")).json()["items"] if w["name"] == "Firm — bad payers")

    result = api.post(
        url("/customers/bulk"),
        json={
            "filter": {"tags": [tag]},
            "set": {"dunningPlanId": firm, "customFields": {"region": "north"}, "paymentMethods": {"card": False}},
        },
    ).json()

    assert result["updated"] == 3
    for customer in made:
        read = api.get(url(f"/customers/{customer['id']}")).json()
        assert read["dunningPlanId"] == firm
        assert read["customFields"] == {"region": "north"}
        assert read["paymentMethods"]["card"] is False


def test_bulk_with_a_bad_value_changes_nobody(api, url, tagged):
    _, made = tagged("Safe A", "Safe B")
    ids = [c["id"] for c in made]

    bad = api.post(url("/customers/bulk"), json={"ids": ids, "set": {"customFields": {"region": "west"}}})
    both = api.post(url("/customers/bulk"), json={"ids": ids, "filter": {}, "set": {"paymentMethods": {"card": True}}})

    assert bad.status_code == 422 and "customFields.region" in bad.json()["error"]["fields"]
    assert both.status_code == 422
    assert all(api.get(url(f"/customers/{i}")).json()["customFields"] == {} for i in ids)


def test_export_is_the_filtered_list_as_csv(api, url, tagged):
    tag, made = tagged("Export B", "Export A")
    invoice = {
        "customerId": made[0]["id"],
        "number": "E-1",
        "currency": "EUR",
        "amount": 123456,
        "issuedAt": "2026-01-01",
        "dueAt": "2026-01-31",
    }
    api.post(url("/invoices"), json=invoice)

    response = api.get(url("/customers/export.csv"), params={"tag": tag})

    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["Name"] for r in rows] == ["Export A", "Export B"]
    assert rows[1]["Outstanding"] == "1234.56"


def test_import_customers_reports_each_row_and_bad_rows_change_nothing(api, url):
    users = api.get(url("/users")).json()["items"]
    manager = users[0]["email"] if users else ""
    text = (
        "External ID,Name,Currency,Account manager,Tags,Card,ACH debit,Workflow\n"
        f"IMP-1,Imported One,EUR,{manager},retail;key-account,no,yes,\n"
        "IMP-2,,EURO,,,,,\n"
        "IMP-3,Imported Three,USD,nobody@nowhere.example,,,,\n"
        "IMP-4,Imported Four,USD,,,maybe,,\n"
        "IMP-5,Imported Five,USD,,,,,Firm\n"
        "IMP-1,Imported One Renamed,EUR,,,,,\n"
    )

    report = api.post(url("/imports"), json={"type": "customers", "csv": text}).json()

    assert (report["rows"], report["created"], report["updated"], report["failed"]) == (6, 1, 1, 4)
    lines = {r["line"]: r for r in report["report"]}
    assert lines[2]["status"] == "created" and lines[7]["status"] == "updated"
    assert "currency" in lines[3]["fields"]
    assert "account manager" in lines[4]["fields"]
    assert "card" in lines[5]["fields"]
    assert "workflow" in lines[6]["fields"]
    imported = api.get(url("/customers"), params={"q": "Imported"}).json()["items"]
    assert [c["name"] for c in imported] == ["Imported One Renamed"]
    assert imported[0]["paymentMethods"] == {
        "card": False,
        "bank_transfer": True,
        "ach_debit": True,
        "sepa_debit": False,
    }


def test_import_contacts_and_invoices_by_customer_external_id(api, url):
    api.put(url("/customers/external/IMP-C"), json={"name": "Contactable", "currency": "JPY"})
    contacts_csv = (
        "Customer external ID,Email,First name,Position,Main\n"
        "IMP-C,ap@contactable.example,Aya,Payer,yes\n"
        "IMP-C,not-an-email,Bo,,\n"
        "NOPE,x@y.example,,,\n"
    )
    invoices_csv = (
        "Customer external ID,External ID,Number,Currency,Amount,Issued at,Due at\n"
        "IMP-C,IMP-INV-1,F-1,JPY,120000,2026-01-01,2026-01-31\n"
        "IMP-C,IMP-INV-2,F-2,JPY,10.5,2026-01-01,2026-01-31\n"
        "IMP-C,IMP-INV-1,F-1,JPY,120000,2026-01-01,2026-01-31\n"
    )

    contacts = api.post(url("/imports"), json={"type": "contacts", "csv": contacts_csv}).json()
    invoices = api.post(url("/imports"), json={"type": "invoices", "csv": invoices_csv}).json()

    assert [r["status"] for r in contacts["report"]] == ["created", "error", "error"]
    assert "email" in contacts["report"][1]["fields"]
    assert [r["status"] for r in invoices["report"]] == ["created", "error", "unchanged"]  # the same row again
    assert invoices["report"][1]["fields"] == {"amount": "at most 0 decimals"}
    customer = api.get(url("/customers"), params={"q": "Contactable"}).json()["items"][0]
    assert customer["outstanding"] == {"JPY": 120000}
