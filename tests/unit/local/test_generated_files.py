"""Files generated from the code must match it: the OpenAPI document and the layer's requirements."""

import json

from openapi_spec_validator import validate

from local.layer import layer_requirements
from local.openapi import generate
from tests.conftest import ROOT


def test_openapi_document_matches_the_code():
    committed = (ROOT / "functions" / "api" / "openapi.json").read_text(encoding="utf-8")

    assert committed == generate(), "run `make openapi`"
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == committed


def test_openapi_document_is_valid_and_documents_our_error_shape():
    document = json.loads(generate())

    validate(document)
    assert document["components"]["schemas"]["HTTPValidationError"]["required"] == ["error"]


def test_layer_requirements_match_pyproject():
    committed = (ROOT / "layers" / "core" / "requirements.txt").read_text(encoding="utf-8")

    assert committed == layer_requirements(), "run `make requirements`"
