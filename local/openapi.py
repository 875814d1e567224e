"""The API's OpenAPI document, generated from the code of the API function."""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer, Server

from local.functions import FunctionRegistry
from local.runtime import ROOT
from local.template import Template
from relance import __version__

DESCRIPTION = (
    "Relance accounts-receivable collections API. Machines authenticate with `X-Api-Key` "
    "(created by an admin, acting as an admin of its organization); people with a bearer "
    "JWT from the organization's Cognito user pool. Errors: "
    '`{"error": {"code", "message", "fields"}}`.'
)


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "examples": ["validation_error"]},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "what is wrong with each field, by its path (e.g. steps[0].offsetDays)",
                },
            },
        }
    },
}
"""The body of every error (relance.api.errors); Powertools documents its own shape for 422."""


def generate() -> str:
    """The document as committed in functions/api/openapi.json (and docs/openapi.json)."""
    api = FunctionRegistry(Template(ROOT / "template.yaml"))["ApiFunction"]
    api.load()
    resolver = api.module.app
    schema = resolver.get_openapi_json_schema(
        title="Relance API",
        version=__version__,
        description=DESCRIPTION,
        servers=[Server(url="/")],
        security_schemes={
            "apiKey": APIKey(name="X-Api-Key", in_=APIKeyIn.header),
            "bearer": HTTPBearer(bearerFormat="JWT"),
        },
        security=[{"apiKey": []}, {"bearer": []}],
    )
    document = json.loads(schema)
    schemas = document["components"]["schemas"]
    schemas["HTTPValidationError"] = ERROR_SCHEMA
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
