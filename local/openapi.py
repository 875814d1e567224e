"""The API's OpenAPI document, generated from the code of the API function."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer, Server

from local.functions import FunctionRegistry
from local.runtime import ROOT
from local.template import Template
from relance import __version__
from relance.api.resolver import OwnEventResolver

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
    assert api.module is not None  # load() imported it
    resolver: OwnEventResolver = api.module.app
    resolver.include_every_router()  # the function imports each router on its first request
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
    schemas["Error"] = ERROR_SCHEMA
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if f"{method.upper()} {path}" in BODIES:
                operation["requestBody"] = BODIES[f"{method.upper()} {path}"]
            operation["responses"] = responses_of(f"{method.upper()} {path}", operation)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


ERRORS = {
    400: "The body is not valid JSON.",
    401: "No valid API key or bearer token (answered by API Gateway's authorizer).",
    403: "The caller's role may not do this (account managers read; admins change).",
    404: "No such resource, or one the caller may not see: the two are never told apart.",
    409: "The change conflicts with the current state (named in the message), or another change got in first.",
    413: "The body, or the files it declares, is over its size limit (named in the message).",
    422: "A value breaks a rule: `fields` names each field at fault.",
    429: "Over the organization's requests per second (`Retry-After`), or the stage's throttle.",
}
"""Every error an operation may answer, in the shape of ``ERROR_SCHEMA`` (never a 500 by design)."""

MORE: dict[str, dict[int, str]] = {
    "PUT /v1/customers/external/{external_id}": {201: "Created: no customer had this external id."},
}
BODIES: dict[str, dict[str, Any]] = {
    "POST /v1/exchange-rates/import": {
        "required": True,
        "description": "CSV: a header line currency,date,rate (any order), then one rate a line; at most 1 MB",
        "content": {
            "text/csv": {"schema": {"type": "string"}, "example": "currency,date,rate\nUSD,2026-03-30,0.9250\n"}
        },
    },
}
"""Bodies a route reads itself (not JSON), which its signature cannot declare."""
NAMING_A_CUSTOMER = {"POST /v1/actions"}
"""Operations whose body names a customer the caller must see (404 as for a path id)."""
"""Statuses an operation answers beyond its success, the one its route declares (``status_code``)."""


def responses_of(operation_id: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The responses an operation really answers: its success (its route's ``status_code``; a 204 has
    no body), then the errors any ``/v1`` request may meet — API Gateway's authorizer (401) and
    throttles (429), roles (403), validation (422) — a body's (400, 413), a path id's (404), a
    change's (409)."""
    method, path = operation_id.split(" ", 1)
    answers: dict[str, Any] = {}
    for code, response in operation["responses"].items():
        answers[code] = {k: v for k, v in response.items() if k != "content"} if code == "204" else response
    for code, description in MORE.get(operation_id, {}).items():
        answers[str(code)] = {**answers.get("200", {}), "description": description}
    if not path.startswith("/v1/"):
        return answers
    errors = {401, 403, 422, 429}
    if "requestBody" in operation:
        errors |= {400, 413}
    customer_query = any(p.get("name") == "customerId" for p in operation.get("parameters", []))
    if "{" in path or customer_query or operation_id in NAMING_A_CUSTOMER:
        errors.add(404)
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        errors.add(409)
    for code in sorted(errors):
        answers[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    answers["429"]["headers"] = {
        "Retry-After": {"description": "seconds to wait (the organization's limit)", "schema": {"type": "string"}}
    }
    return answers
