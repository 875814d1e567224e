"""X-Ray traces never hold what a handler answers or the error it raised.

With ``Tracing: Active``, Powertools' tracer puts a handler's whole response (new API keys,
portal links with their token, customers' data) and its exception into the trace as metadata,
unless told not to. The template tells it not to, and so does every handler.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from local.functions import FunctionRegistry, LambdaContext
from local.template import Template
from relance.observability import tracer
from tests.conftest import ROOT

TEMPLATE = Template(ROOT / "template.yaml")
FUNCTIONS = sorted(TEMPLATE.resources("AWS::Serverless::Function"))


class Recorder:
    """Stands for the X-Ray recorder: keeps whatever the tracer puts on a subsegment."""

    def __init__(self) -> None:
        self.metadata: list[tuple[str, Any]] = []
        self.annotations: dict[str, Any] = {}

    @contextmanager
    def in_subsegment(self, name: str | None = None, **_: Any) -> Iterator[Recorder]:
        yield self

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        self.metadata.append((key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self.annotations[key] = value


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recording = Recorder()
    monkeypatch.setattr(tracer, "provider", recording)
    # Even where the environment asks for capture, the handlers do not capture.
    monkeypatch.setenv("POWERTOOLS_TRACER_CAPTURE_RESPONSE", "true")
    monkeypatch.setenv("POWERTOOLS_TRACER_CAPTURE_ERROR", "true")
    return recording


def context(name: str) -> LambdaContext:
    return LambdaContext(name, f"arn:aws:lambda:eu-west-1:123456789012:function:{name}", 512, 29)


def test_the_template_turns_off_response_and_error_capture_for_every_function():
    variables = TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]

    assert TEMPLATE.raw["Globals"]["Function"]["Tracing"] == "Active"
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
    for logical_id in FUNCTIONS:  # no function turns it back on
        own = TEMPLATE.raw["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        assert "POWERTOOLS_TRACER_CAPTURE_RESPONSE" not in own, logical_id
        assert "POWERTOOLS_TRACER_CAPTURE_ERROR" not in own, logical_id


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_handler_is_traced_without_its_response_or_error(logical_id):
    """Each handler is wrapped by ``relance.observability.traced``, never by the tracer's own decorators."""
    props = TEMPLATE.properties(logical_id)
    module, _, name = props["Handler"].rpartition(".")
    source = (ROOT / props["CodeUri"] / f"{module}.py").read_text()
    tree = ast.parse(source)

    [handler] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    decorators = [ast.unparse(d) for d in handler.decorator_list]
    assert "traced" in decorators, decorators
    assert "tracer.capture_lambda_handler" not in source and "tracer.capture_method" not in source


def test_an_api_answer_is_not_recorded_in_the_trace(recorder, sample_event):
    api = FunctionRegistry(TEMPLATE)["ApiFunction"].load()

    response = api(sample_event("api/get-health.json"), context("relance-ApiFunction"))

    assert response["statusCode"] == 200 and json.loads(response["body"])["status"] == "ok"
    assert recorder.annotations  # the handler ran in its subsegment
    assert recorder.metadata == []


def test_an_error_is_not_recorded_in_the_trace(recorder, sample_event):
    authorizer = FunctionRegistry(TEMPLATE)["AuthorizerFunction"].load()
    event = sample_event("authorizer/request-no-credentials.json")

    with pytest.raises(Exception, match="Unauthorized"):
        authorizer(event, context("relance-AuthorizerFunction"))

    assert recorder.annotations
    assert recorder.metadata == []
