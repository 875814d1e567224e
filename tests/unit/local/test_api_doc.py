"""docs/api.md's table of operations matches the committed OpenAPI document (which matches the code)."""

import json

from local.api_doc import API_DOC, OPENAPI, operations_table, render

DOCUMENT = json.loads(OPENAPI.read_text(encoding="utf-8"))


def test_the_table_of_operations_in_api_md_is_current():
    doc = API_DOC.read_text(encoding="utf-8")

    assert render(doc, DOCUMENT) == doc, "run `make openapi`"


def test_the_table_names_each_operation_with_its_success_status():
    table = operations_table(DOCUMENT)

    assert "| `POST /v1/customers` | 201 | Create a customer |" in table
    assert "| `DELETE /v1/customers/{customer_id}` | 204 |" in table
    assert "| `PUT /v1/customers/external/{external_id}` | 200, 201 |" in table


def test_every_deletion_is_documented_as_a_204_without_a_body():
    deletions = {path: ops["delete"] for path, ops in DOCUMENT["paths"].items() if "delete" in ops}

    assert deletions
    for path, operation in deletions.items():
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert list(successes) == ["204"], path
        assert "content" not in successes["204"], path
