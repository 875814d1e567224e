"""The API error shape of docs/api.md, on a resolver with the handlers registered."""

import json

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import Field

from relance.api.errors import register_error_handlers
from relance.domain.base import RelanceModel
from relance.errors import Conflict, NotFound, field_path


class Step(RelanceModel):
    offset_days: int


class Body(RelanceModel):
    name: str = Field(min_length=1)
    steps: list[Step] = Field(default_factory=list)


app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


@app.post("/things")
def create_thing(body: Body) -> dict:
    return {"name": body.name}


@app.get("/things/<thing_id>")
def get_thing(thing_id: str) -> dict:
    if thing_id == "taken":
        raise Conflict("already exists", {"externalId": "is taken"})
    raise NotFound("thing not found")


@app.get("/boom")
def boom() -> dict:
    raise RuntimeError("bug")


@pytest.fixture
def call(sample_event):
    def request(method: str, path: str, body: str | None = None) -> tuple[int, dict]:
        event = sample_event("api/get-health.json")
        event.update(httpMethod=method, path=path, resource=path, body=body)
        response = app.resolve(event, None)
        return response["statusCode"], json.loads(response["body"])

    return request


def test_invalid_field_is_422_naming_the_field(call):
    status, body = call("POST", "/things", json.dumps({"name": "", "steps": [{"offsetDays": "x"}]}))

    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert set(body["error"]["fields"]) == {"name", "steps[0].offsetDays"}


def test_malformed_json_is_400(call):
    status, body = call("POST", "/things", "{not json")

    assert status == 400
    assert body["error"]["code"] == "bad_request"


def test_domain_errors_keep_their_status_and_fields(call):
    assert call("GET", "/things/x") == (404, {"error": {"code": "not_found", "message": "thing not found"}})
    status, body = call("GET", "/things/taken")
    assert status == 409
    assert body["error"]["fields"] == {"externalId": "is taken"}


def test_unknown_route_is_404_in_the_error_shape(call):
    assert call("GET", "/nothing") == (404, {"error": {"code": "not_found", "message": "no such resource"}})


def test_a_bug_is_a_500_that_reveals_nothing(call):
    status, body = call("GET", "/boom")

    assert status == 500
    assert "bug" not in json.dumps(body)


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "email"), "email"),
        (("query", "limit"), "limit"),
        (("body",), "body"),
        (("body", "a", 2, "b"), "a[2].b"),
        (("query", "query", "outstandingMin"), "outstandingMin"),
    ],
)
def test_field_path(loc, expected):
    assert field_path(loc) == expected
