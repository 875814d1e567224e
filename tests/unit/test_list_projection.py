"""GSI3: the customer list in name order, and the directory."""

from local.template import Template
from relance.storage.customers import LIST_PROJECTION
from relance.storage.keys import NAME_SEPARATOR, customer_by_name
from tests.conftest import ROOT


def test_gsi3_projects_everything_the_directory_and_the_list_read():
    template = Template(ROOT / "template.yaml", stack_name="s", parameters={}, endpoint_url="http://127.0.0.1:9")
    table = template.resources("AWS::DynamoDB::Table")["Table"]["Properties"]
    gsi3 = next(i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI3")

    assert gsi3["Projection"] == {"ProjectionType": "ALL"}  # users, workflows... whole; the list asks for its columns
    assert "openItems" in LIST_PROJECTION and "nextAction" in LIST_PROJECTION


def test_the_index_orders_as_name_then_id():
    names = ["a", "a b", "a!", "ab", "A".lower(), "ä", "zz", "0"]
    keys = sorted((customer_by_name("org", n, f"cus_{i}")["GSI3SK"], (n, f"cus_{i}")) for i, n in enumerate(names))

    assert [pair for _, pair in keys] == sorted((n, f"cus_{i}") for i, n in enumerate(names))
    assert all(c > NAME_SEPARATOR for n in names for c in n)
