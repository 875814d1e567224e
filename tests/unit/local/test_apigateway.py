"""Route matching and authorizer policies, as API Gateway evaluates them."""

import pytest

from local.apigateway import ApiGateway, Route


def route(resource: str, method: str = "GET") -> Route:
    return Route(api=None, resource=resource, method=method, function=None, authorizer=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("resource", "path", "expected"),
    [
        ("/v1/customers/{id}", "/v1/customers/c1", {"id": "c1"}),
        ("/v1/customers/{id}", "/v1/customers/c1/contacts", None),
        ("/v1/{proxy+}", "/v1/customers/c1/contacts", {"proxy": "customers/c1/contacts"}),
        ("/v1/{proxy+}", "/v1", None),
        ("/health", "/health", {}),
        ("/health", "/healthz", None),
    ],
)
def test_match(resource, path, expected):
    assert route(resource).match(path) == expected


def test_most_specific_route_sorts_first():
    routes = [route("/v1/{proxy+}", "ANY"), route("/v1/{id}"), route("/v1/docs"), route("/v1/docs", "ANY")]

    ordered = sorted(routes, key=lambda r: r.specificity(), reverse=True)

    assert [(r.resource, r.method) for r in ordered] == [
        ("/v1/docs", "GET"),
        ("/v1/docs", "ANY"),
        ("/v1/{id}", "GET"),
        ("/v1/{proxy+}", "ANY"),
    ]


ARN = "arn:aws:execute-api:us-east-1:123456789012:api/local/GET/v1/me"


def statement(effect: str, resource: str) -> dict:
    return {"Effect": effect, "Action": "execute-api:Invoke", "Resource": resource}


@pytest.mark.parametrize(
    ("statements", "allowed"),
    [
        ([statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:api/*")], True),
        ([statement("Allow", "arn:aws:execute-api:us-east-1:123456789012:api/local/POST/*")], False),
        ([statement("Allow", "*"), statement("Deny", "*/GET/v1/me")], False),
        ([], False),
    ],
)
def test_policy_needs_an_allow_and_no_deny(statements, allowed):
    assert ApiGateway._allows({"Version": "2012-10-17", "Statement": statements}, ARN) is allowed
