"""local/moto_dynamodb.py answers as moto does: the same writes and Queries, run with and without it.

A script (writes — puts, batches, updates, deletes, transactions that fail or not — and
Queries followed page by page) runs twice on a fresh moto: with the patch installed, then
with moto's own methods. Every answer must be the same: items and their order, Count,
ScannedCount, LastEvaluatedKey, errors, and the table left behind. Generated scripts, then
scenarios that generation reaches rarely; and the rendering of results against moto's
serializer.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import JSONSerializer
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler, DynamoResult

from local import moto_dynamodb

REGION = "us-east-1"
TABLE = "relance"
ORGS = ["ORG#a", "ORG#b", "ORG#c"]
TEXT = st.text(alphabet="#09ACU", max_size=4)
NUMBERS = st.one_of(st.integers(-30, 30).map(str), st.sampled_from(["0.5", "-1.25", "2.50", "1E+2", "1e2", "0100"]))


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    yield
    moto_dynamodb.uninstall()


# ---------------------------------------------------------------- the table
def create_table(client: Any, sort_type: str) -> None:
    attributes = {"PK": "S", "SK": sort_type, "G1PK": "S", "G1SK": "S", "G2PK": "S", "G2SK": "N"}
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": v} for k, v in attributes.items()],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            index("GSI1", "G1PK", "G1SK", {"ProjectionType": "ALL"}),
            index("GSI2", "G2PK", "G2SK", {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["amount"]}),
            index("GSI3", "G1PK", None, {"ProjectionType": "KEYS_ONLY"}),
        ],
    )


def index(name: str, hash_key: str, range_key: str | None, projection: dict[str, Any]) -> dict[str, Any]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return {"IndexName": name, "KeySchema": schema, "Projection": projection}


# ---------------------------------------------------------------- scripts
@st.composite
def sort_keys(draw: st.DrawFn, sort_type: str) -> dict[str, str]:
    if sort_type == "N":
        return {"N": draw(NUMBERS)}
    return {"S": draw(st.sampled_from(["CUS#", "CUSEXT#", "INV#", "A", "CU", ""])) + draw(TEXT) or "x"}


@st.composite
def items(draw: st.DrawFn, sort_type: str) -> dict[str, Any]:
    item: dict[str, Any] = {"PK": {"S": draw(st.sampled_from(ORGS))}, "SK": draw(sort_keys(sort_type))}
    if draw(st.booleans()):
        item["G1PK"] = {"S": draw(st.sampled_from(["G#x", "G#y"]))}
        if draw(st.integers(0, 3)):  # sparse: some items have the hash key of G1 but not its range key
            item["G1SK"] = {"S": draw(TEXT) or "0"}
    if draw(st.booleans()):
        item["G2PK"] = {"S": "G2"}
        if draw(st.integers(0, 3)):
            item["G2SK"] = {"N": draw(NUMBERS)}
    item["amount"] = {"N": draw(NUMBERS)}
    if draw(st.booleans()):
        item["status"] = {"S": draw(st.sampled_from(["open", "paid", ""]))}
    if draw(st.booleans()):
        item["openItems"] = {
            "M": {
                draw(st.sampled_from(["i1", "i2"])): {
                    "M": {"outstanding": {"N": draw(NUMBERS)}, "late": {"BOOL": True}}
                }
            }
        }
    if draw(st.booleans()):
        item["tags"] = {"L": [{"S": t} for t in draw(st.lists(st.sampled_from(["a", "b"]), max_size=2))]}
    extra = draw(st.sampled_from([None, {"NULL": True}, {"SS": ["x", "y"]}, {"B": b"\x00\x01"}]))
    if extra is not None:
        item["extra"] = extra
    return item


@st.composite
def writes(draw: st.DrawFn, sort_type: str, stored: list[dict[str, Any]]) -> tuple[Any, ...]:
    kind = draw(st.sampled_from(["put", "put", "update", "update", "delete", "transact", "batch"]))
    if kind == "put":
        return ("put", draw(items(sort_type)))
    if kind == "batch":
        return ("batch", draw(st.lists(items(sort_type), min_size=1, max_size=6, unique_by=key_json)))
    if stored and draw(st.integers(0, 3)):  # mostly an item that is there
        key = {name: value for name, value in draw(st.sampled_from(stored)).items() if name in ("PK", "SK")}
    else:
        key = {"PK": {"S": draw(st.sampled_from(ORGS))}, "SK": draw(sort_keys(sort_type))}
    if kind == "delete":
        return ("delete", key)
    update = draw(
        st.sampled_from(
            [
                ("SET G1PK = :g, G1SK = :s", {":g": {"S": "G#x"}, ":s": {"S": "C1"}}),
                ("SET G1SK = :s", {":s": {"S": "A9"}}),
                ("REMOVE G1SK", {}),
                ("REMOVE G1PK, G2SK", {}),
                ("SET G2PK = :g, G2SK = :n", {":g": {"S": "G2"}, ":n": {"N": "-3"}}),
                ("SET amount = :n", {":n": {"N": "12"}}),
            ]
        )
    )
    if kind == "update":
        return ("update", key, update)
    return ("transact", draw(items(sort_type)), key, update, draw(st.booleans()))


def key_json(item: dict[str, Any]) -> str:
    return json.dumps([item["PK"], item["SK"]], sort_keys=True)


@st.composite
def queries(draw: st.DrawFn, sort_type: str) -> dict[str, Any]:
    target = draw(st.sampled_from(["table", "table", "G1", "G2", "G3"]))
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    request: dict[str, Any] = {"TableName": TABLE, "ScanIndexForward": draw(st.booleans())}
    if target == "table":
        hash_name, range_name, range_value = "PK", "SK", sort_keys(sort_type)
        values[":h"] = {"S": draw(st.sampled_from([*ORGS, "ORG#none"]))}
    else:
        request["IndexName"] = "GSI" + target[1]
        hash_name = {"G1": "G1PK", "G2": "G2PK", "G3": "G1PK"}[target]
        range_name = {"G1": "G1SK", "G2": "G2SK", "G3": ""}[target]
        range_value = st.builds(lambda s: {"S": s}, TEXT) if target == "G1" else st.builds(lambda n: {"N": n}, NUMBERS)
        values[":h"] = {"S": draw(st.sampled_from(["G#x", "G#y", "G2", "nothing"]))}
    condition = f"{hash_name} = :h"
    operators = ["=", "<", "<=", ">", ">=", "BETWEEN"]
    if (target == "table" and sort_type == "S") or target == "G1":
        operators.append("begins_with")  # on strings (and binaries)
    operator = draw(st.sampled_from([None, *operators])) if range_name else None
    if operator == "BETWEEN":
        low, high = sorted([draw(range_value), draw(range_value)], key=sort_value)
        values[":a"], values[":b"] = low, high
        condition += f" AND {range_name} BETWEEN :a AND :b"
    elif operator == "begins_with":
        values[":a"] = draw(range_value)
        condition += f" AND begins_with({range_name}, :a)"
    elif operator:
        values[":a"] = draw(range_value)
        condition += f" AND {range_name} {operator} :a"
    request["KeyConditionExpression"] = condition
    if limit := draw(st.sampled_from([None, 1, 2, 3, 5])):
        request["Limit"] = limit
    filter_ = draw(st.sampled_from([None, "amount > :z", "attribute_exists(openItems)", "#s = :open"]))
    if filter_:
        request["FilterExpression"] = filter_
        if ":z" in filter_:
            values[":z"] = {"N": "0"}
        if "#s" in filter_:
            names["#s"], values[":open"] = "status", {"S": "open"}
    projection = draw(
        st.sampled_from([None, "PK, SK, amount", "openItems, tags, extra, G1SK", "openItems.i1", "tags[0], SK"])
    )
    if projection:
        request["ProjectionExpression"] = projection
    if names:
        request["ExpressionAttributeNames"] = names
    request["ExpressionAttributeValues"] = values
    return request


def sort_value(value: dict[str, str]) -> Any:
    ((kind, inner),) = value.items()
    return Decimal(inner) if kind == "N" else inner


@st.composite
def scripts(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]], list[tuple[Any, ...]]]:
    sort_type = draw(st.sampled_from(["S", "N"]))
    seed = draw(st.lists(items(sort_type), max_size=40, unique_by=key_json))
    steps = draw(
        st.lists(st.one_of(writes(sort_type, seed), st.builds(lambda q: ("query", q), queries(sort_type))), max_size=14)
    )
    return sort_type, seed, [*steps, ("query", draw(queries(sort_type)))]


# ---------------------------------------------------------------- running a script
def run(script: tuple[str, list[dict[str, Any]], list[tuple[Any, ...]]], *, patched: bool) -> list[Any]:
    if patched:
        moto_dynamodb.install()
    else:
        moto_dynamodb.uninstall()
    sort_type, seed, steps = script
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, sort_type)
        for item in seed:
            client.put_item(TableName=TABLE, Item=item)
        answers = [answer(client, step) for step in steps]
        answers.append(client.scan(TableName=TABLE)["Items"])  # the writes left the same table
    return answers


def answer(client: Any, step: tuple[Any, ...]) -> Any:
    try:
        return perform(client, step)
    except ClientError as error:
        return {"error": error.response["Error"]["Code"], "message": error.response["Error"].get("Message")}


def perform(client: Any, step: tuple[Any, ...]) -> Any:
    kind = step[0]
    if kind == "query":
        return pages(client, dict(step[1]))
    if kind == "put":
        return client.put_item(TableName=TABLE, Item=step[1])["ResponseMetadata"]["HTTPStatusCode"]
    if kind == "batch":
        client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": i}} for i in step[1]]})
        return "batch"
    if kind == "delete":
        return client.delete_item(TableName=TABLE, Key=step[1], ReturnValues="ALL_OLD").get("Attributes")
    expression, values = step[-2] if kind == "transact" else step[2]
    update = {"TableName": TABLE, "Key": step[2] if kind == "transact" else step[1], "UpdateExpression": expression}
    if values:
        update["ExpressionAttributeValues"] = values
    if kind == "update":
        return client.update_item(**update, ReturnValues="ALL_NEW")["Attributes"]
    # A put and an update (the same key twice is refused), then a check that fails or not:
    # a failed transaction leaves nothing of it.
    condition = "attribute_exists(nothing)" if step[-1] else "attribute_not_exists(nothing)"
    check = {
        "TableName": TABLE,
        "Key": {"PK": {"S": "ORG#none"}, "SK": step[1]["SK"]},
        "ConditionExpression": condition,
    }
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": TABLE, "Item": step[1]}}, {"Update": update}, {"ConditionCheck": check}]
    )
    return "transacted"


def pages(client: Any, request: dict[str, Any]) -> list[Any]:
    answers = []
    for _ in range(60):
        page = client.query(**request)
        page.pop("ResponseMetadata")
        answers.append(page)
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return answers


# ---------------------------------------------------------------- the properties
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=scripts())
def test_queries_answer_as_moto_does(script):
    delegated = moto_dynamodb.stats["delegated"]

    fast = run(script, patched=True)
    delegated = moto_dynamodb.stats["delegated"] - delegated
    slow = run(script, patched=False)

    assert fast == slow
    assert delegated == 0  # answered from the partitions, not by moto's query


def both(seed: list[dict[str, Any]], steps: list[tuple[Any, ...]], sort_type: str = "S") -> list[Any]:
    """The answers of a script, which must be moto's."""
    fast = run((sort_type, seed, steps), patched=True)
    assert fast == run((sort_type, seed, steps), patched=False)
    return fast


def item(sk: str, **attrs: str) -> dict[str, Any]:
    return {"PK": {"S": "ORG#a"}, "SK": {"S": sk}, **{k: {"N" if k == "G2SK" else "S": v} for k, v in attrs.items()}}


def on(index: str, hash_value: str, **request: Any) -> tuple[str, dict[str, Any]]:
    names = {"GSI1": "G1PK", "GSI2": "G2PK", "GSI3": "G1PK"}
    condition = f"{names[index]} = :h"
    return "query", {
        "TableName": TABLE,
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": {":h": {"S": hash_value}},
        **request,
    }


def keys(answer: list[dict[str, Any]]) -> list[str]:
    return [i["SK"]["S"] for page in answer for i in page["Items"]]


# ---------------------------------------------------------------- scenarios
def test_updates_move_items_between_index_partitions_and_out_of_a_sparse_index():
    seed = [item("A", G1PK="G#y", G1SK="1"), item("B", G1PK="G#x", G1SK="5")]
    a = {"PK": {"S": "ORG#a"}, "SK": {"S": "A"}}
    steps = [
        on("GSI1", "G#x"),
        ("update", a, ("SET G1PK = :g, G1SK = :s", {":g": {"S": "G#x"}, ":s": {"S": "9"}})),
        on("GSI1", "G#x"),
        ("update", a, ("SET G1SK = :s", {":s": {"S": "0"}})),
        on("GSI1", "G#x"),
        on("GSI3", "G#x"),
        ("update", a, ("REMOVE G1SK", {})),
        on("GSI1", "G#x"),
        on("GSI3", "G#x"),
        on("GSI1", "G#y"),
    ]

    answers = both(seed, steps)

    assert [keys(answers[n]) for n in (0, 2, 4, 7, 9)] == [["B"], ["B", "A"], ["A", "B"], ["B"], []]
    assert sorted(keys(answers[5])) == ["A", "B"] and sorted(keys(answers[8])) == ["A", "B"]  # G3: no range key


def test_a_cancelled_transaction_leaves_nothing_in_the_table_or_its_indexes():
    seed = [item("A", G1PK="G#x", G1SK="1")]
    update = ("SET G1PK = :g, G1SK = :s", {":g": {"S": "G#x"}, ":s": {"S": "0"}})
    new = item("C", G1PK="G#x", G1SK="2")
    steps = [
        on("GSI1", "G#x"),
        ("transact", new, {"PK": {"S": "ORG#a"}, "SK": {"S": "A"}}, update, True),  # its check fails
        on("GSI1", "G#x"),
        ("transact", new, {"PK": {"S": "ORG#a"}, "SK": {"S": "C"}}, update, False),  # the same key twice
        on("GSI1", "G#x"),
        ("transact", new, {"PK": {"S": "ORG#a"}, "SK": {"S": "A"}}, update, False),
        on("GSI1", "G#x"),
    ]

    answers = both(seed, steps)

    assert answers[1]["error"] == "TransactionCanceledException" and answers[3]["error"] == "ValidationException"
    assert [keys(answers[n]) for n in (0, 2, 4, 6)] == [["A"], ["A"], ["A"], ["A", "C"]]


def test_pages_end_at_a_megabyte_as_in_moto():
    large = "x" * 150_000
    seed = [{**item(f"CUS#{n}", G1PK="G#x", G1SK=f"{n}"), "payload": {"S": large}} for n in range(9)]
    seed += [{**item("INV#1", G1PK="G#x", G1SK="9"), "payload": {"S": large}}, item("CUT")]
    values = {":h": {"S": "ORG#a"}, ":p": {"S": "CUS#"}}
    prefix = {"TableName": TABLE, "KeyConditionExpression": "PK = :h AND begins_with(SK, :p)"}
    steps = [
        ("query", {**prefix, "ExpressionAttributeValues": values}),
        ("query", {**prefix, "ExpressionAttributeValues": values, "ScanIndexForward": False, "Limit": 7}),
        on("GSI1", "G#x", ProjectionExpression="SK"),  # the size before projection counts
        on(
            "GSI1",
            "G#x",
            ScanIndexForward=False,
            FilterExpression="SK <> :p",
            ExpressionAttributeValues={":h": {"S": "G#x"}, ":p": {"S": "CUS#3"}},
        ),
        ("update", {"PK": {"S": "ORG#a"}, "SK": {"S": "CUS#0"}}, ("SET payload = :s", {":s": {"S": "small"}})),
        ("query", {**prefix, "ExpressionAttributeValues": values}),
    ]

    answers = both(seed, steps)

    assert [len(page["Items"]) for page in answers[0]] == [6, 3]
    assert [len(page["Items"]) for page in answers[1]] == [6, 3]
    assert [len(page["Items"]) for page in answers[2]] == [6, 4]
    assert [len(page["Items"]) for page in answers[3]] == [6, 3]  # CUS#3 filtered out after the page is cut
    assert [len(page["Items"]) for page in answers[5]] == [7, 2]  # CUS#0 is small now


def test_a_page_that_ends_at_the_limit_has_a_key_when_the_partition_goes_on():
    seed = [item("CUS#0"), item("CUS#1"), item("CUS#2"), item("CUT")]
    values = {":h": {"S": "ORG#a"}, ":p": {"S": "CUS#"}}
    prefix = {"TableName": TABLE, "KeyConditionExpression": "PK = :h AND begins_with(SK, :p)", "Limit": 3}
    steps = [
        ("query", {**prefix, "ExpressionAttributeValues": values}),
        ("query", {**prefix, "ExpressionAttributeValues": values, "ScanIndexForward": False}),
    ]

    forward, backward, _ = both(seed, steps)

    assert [len(page["Items"]) for page in forward] == [3, 0]  # moto's quirk: CUT follows
    assert [len(page["Items"]) for page in backward] == [3]  # nothing before CUS#0


def test_a_number_sort_key_and_every_key_condition():
    seed = [
        {"PK": {"S": "ORG#a"}, "SK": {"N": n}, "G2PK": {"S": "G2"}, "G2SK": {"N": n}, "amount": {"N": "1"}}
        for n in ["-10", "-1.5", "0", "2", "2.5", "10", "100"]
    ]
    conditions = [("<", "2"), ("<=", "2"), (">", "-1.5"), (">=", "-1.5"), ("=", "2.50")]
    steps = []
    for forward in (True, False):
        for operator, value in conditions:
            values = {":h": {"S": "ORG#a"}, ":v": {"N": value}}
            condition = f"PK = :h AND SK {operator} :v"
            request = {"KeyConditionExpression": condition, "ExpressionAttributeValues": values}
            steps.append(("query", {"TableName": TABLE, "ScanIndexForward": forward, "Limit": 2, **request}))
            index_values = {":h": {"S": "G2"}, ":v": {"N": value}}
            steps.append(
                on(
                    "GSI2",
                    "G2",
                    KeyConditionExpression=f"G2PK = :h AND G2SK {operator} :v",
                    ExpressionAttributeValues=index_values,
                    ScanIndexForward=forward,
                    Limit=3,
                )
            )
        between = {":h": {"S": "G2"}, ":a": {"N": "-2"}, ":b": {"N": "10"}}
        steps.append(
            on(
                "GSI2",
                "G2",
                KeyConditionExpression="G2PK = :h AND G2SK BETWEEN :a AND :b",
                ExpressionAttributeValues=between,
                ScanIndexForward=forward,
            )
        )

    answers = both(seed, steps, sort_type="N")

    numbers = [[i["SK"]["N"] for page in answer for i in page["Items"]] for answer in answers[:-1]]
    assert numbers[0] == ["-10", "-1.5", "0"]  # < 2, by number, not by string
    assert numbers[10] == ["-1.5", "0", "2", "2.5", "10"]  # BETWEEN -2 AND 10, both ends in


def test_a_table_without_sort_key_and_its_indexes():
    def script() -> list[Any]:
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            client.create_table(
                TableName="links",
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "org", "at")],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                GlobalSecondaryIndexes=[
                    index("BY_ORG", "org", None, {"ProjectionType": "ALL"}),
                    index("BY_ORG_AT", "org", "at", {"ProjectionType": "KEYS_ONLY"}),
                ],
            )
            for n in range(12):
                link = {"id": {"S": f"L{n % 7}{n}"}, "org": {"S": f"O{n % 2}"}}
                client.put_item(TableName="links", Item={**link, "at": {"S": f"{n % 5}"}} if n % 3 else link)
            client.delete_item(TableName="links", Key={"id": {"S": "L00"}})
            answers = []
            for name in ("BY_ORG", "BY_ORG_AT"):
                for forward in (True, False):
                    request = {
                        "TableName": "links",
                        "IndexName": name,
                        "KeyConditionExpression": "org = :o",
                        "ExpressionAttributeValues": {":o": {"S": "O0"}},
                        "ScanIndexForward": forward,
                        "Limit": 2,
                    }
                    answers.append(pages(client, request))
            by_id = {"KeyConditionExpression": "id = :i", "ExpressionAttributeValues": {":i": {"S": "L33"}}}
            answers.append(pages(client, {"TableName": "links", **by_id}))
            return answers

    moto_dynamodb.install()
    delegated = moto_dynamodb.stats["delegated"]
    fast = script()
    assert moto_dynamodb.stats["delegated"] == delegated
    moto_dynamodb.uninstall()

    assert fast == script()
    ids = [[i["id"]["S"] for page in answer for i in page["Items"]] for answer in fast]
    assert ids[0] == ["L18", "L22", "L310", "L44", "L66"]  # no sort key: by the table's key
    assert ids[1] == ids[0][::-1]
    assert ids[2] == ["L310", "L22", "L18", "L44"]  # by "at", then id; L66 has no "at": not in the index
    assert ids[4] == ["L33"]


def test_an_index_created_after_the_items_has_them():
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, "S")
        client.put_item(TableName=TABLE, Item={**item("A"), "late": {"S": "L"}})
        client.query(**on("GSI1", "G#x")[1])  # the table's partitions are built
        client.update_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "late", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": index("LATE", "late", None, {"ProjectionType": "ALL"})}],
        )
        query = {"KeyConditionExpression": "late = :l", "ExpressionAttributeValues": {":l": {"S": "L"}}}
        found = client.query(TableName=TABLE, IndexName="LATE", **query)["Items"]

    assert [i["SK"]["S"] for i in found] == ["A"]


def test_partitions_built_before_an_uninstall_are_not_trusted_after_it():
    moto_dynamodb.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, "S")
        client.put_item(TableName=TABLE, Item=item("A", G1PK="G#x", G1SK="1"))
        assert len(client.query(**on("GSI1", "G#x")[1])["Items"]) == 1
        moto_dynamodb.uninstall()
        client.put_item(TableName=TABLE, Item=item("B", G1PK="G#x", G1SK="2"))  # unseen by the partitions
        moto_dynamodb.install()
        found = client.query(**on("GSI1", "G#x")[1])["Items"]

    assert [i["SK"]["S"] for i in found] == ["A", "B"]


def test_uninstall_puts_moto_back():
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    moto_methods = [Table.query, Table.put_item, DynamoDBBackend.update_item, DynamoResult.execute_result]
    moto_dynamodb.install()
    patched = [Table.query, Table.put_item, DynamoDBBackend.update_item, DynamoResult.execute_result]
    moto_dynamodb.uninstall()

    assert patched[0] is moto_dynamodb.query and not set(patched) & set(moto_methods)
    assert [Table.query, Table.put_item, DynamoDBBackend.update_item, DynamoResult.execute_result] == moto_methods
    assert "execute_result" not in DynamoResult.__dict__


# ---------------------------------------------------------------- rendering
LEAVES = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=3)),
    st.builds(lambda v: {"N": v}, NUMBERS),
    st.builds(lambda v: {"B": v}, st.binary(max_size=3)),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=2), min_size=1, max_size=2, unique=True)),
    st.builds(lambda v: {"NS": v}, st.lists(NUMBERS, min_size=1, max_size=2, unique=True)),
    st.builds(lambda v: {"BS": v}, st.lists(st.binary(max_size=2), min_size=1, max_size=2, unique=True)),
)
VALUES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=2), children, max_size=3)),
    ),
    max_leaves=8,
)
ATTRIBUTE_MAPS = st.dictionaries(st.sampled_from(["PK", "SK", "a", "b", "c"]), VALUES, min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    found=st.lists(ATTRIBUTE_MAPS, max_size=4),
    last_key=st.one_of(st.none(), ATTRIBUTE_MAPS),
    operation=st.sampled_from(["Query", "Scan", "GetItem", "BatchGetItem"]),
)
def test_results_are_rendered_as_moto_renders_them(found, last_key, operation):
    found = [stored(attributes) for attributes in found]
    if operation in ("Query", "Scan"):
        result: dict[str, Any] = {"Count": len(found), "ScannedCount": len(found), "Items": found}
        if last_key is not None:
            result["LastEvaluatedKey"] = stored(last_key)
    elif operation == "GetItem":
        result = {"Item": found[0]} if found else {}
    else:
        result = {"Responses": {TABLE: found}, "UnprocessedKeys": {}, "ConsumedCapacity": []}
    model = get_service_model("dynamodb")
    context = ActionContext(model, model.operation_model(operation), JSONSerializer, DynamoHandler())
    moto_answer = ActionResult.execute_result(DynamoResult(result), context)

    answer = moto_dynamodb._execute_result(DynamoResult(result), context)

    assert answer[:2] == moto_answer[:2] and json.loads(answer[2]) == json.loads(moto_answer[2])


def stored(attributes: dict[str, Any]) -> dict[str, DynamoType]:
    """Attribute values as moto holds them: DynamoType, binaries base64-encoded as they came."""
    return {name: DynamoType(wire(value)) for name, value in attributes.items()}


def wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value
