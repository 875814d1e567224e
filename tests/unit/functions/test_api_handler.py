"""The API function's handler on sample events (no AWS needed for these routes)."""

import json

import pytest

from local.functions import FunctionRegistry, LambdaContext
from local.template import Template
from relance import __version__
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def api():
    return FunctionRegistry(Template(ROOT / "template.yaml"))["ApiFunction"]


def context():
    return LambdaContext("relance-ApiFunction", "arn:aws:lambda:eu-west-1:123456789012:function:x", 512, 29)


def test_health_answers_ok_with_version(api, sample_event):
    response = api.load()(sample_event("api/get-health.json"), context())

    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["status"] == "ok"
    assert body["version"] == __version__


def test_request_without_authorizer_context_is_401(api, sample_event):
    event = sample_event("api/get-me.json")
    del event["requestContext"]["authorizer"]

    response = api.load()(event, context())

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"


def test_openapi_document_is_served_from_the_committed_file(api, sample_event):
    event = sample_event("api/get-health.json")
    event.update(path="/v1/openapi.json", resource="/v1/openapi.json")

    response = api.load()(event, context())

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_swagger_ui_embeds_the_document(api, sample_event):
    event = sample_event("api/get-health.json")
    event.update(path="/v1/docs", resource="/v1/docs")

    response = api.load()(event, context())

    assert response["statusCode"] == 200
    assert "SwaggerUIBundle" in response["body"]
    assert "Relance API" in response["body"]
