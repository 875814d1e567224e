"""The web function's handler: static files, the sign-in redirect, security headers (no AWS needed)."""

import importlib

import pytest

from local.functions import FunctionRegistry, LambdaContext
from local.template import Template
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def web():
    return FunctionRegistry(Template(ROOT / "template.yaml"))["WebFunction"]


def context():
    return LambdaContext("relance-WebFunction", "arn:aws:lambda:eu-west-1:123456789012:function:x", 512, 29)


def call(web, event):
    return web.load()(event, context())


def headers_of(response):
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers.update({k.lower(): ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()})
    return headers


def test_a_page_without_a_session_goes_to_the_sign_in_and_back(web, sample_event):
    response = call(web, sample_event("web/get-customers.json"))

    assert response["statusCode"] == 303
    headers = headers_of(response)
    assert headers["location"] == "/auth/login?next=%2Fcustomers%3FoverdueMin%3D100000%26rating%3DD"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"].startswith("no-store")


def test_htmx_is_told_to_go_to_the_sign_in(web, sample_event):
    event = sample_event("web/get-customers.json")
    event["headers"]["HX-Request"] = "true"

    response = call(web, event)

    assert response["statusCode"] == 200
    assert headers_of(response)["hx-redirect"].startswith("/auth/login?next=%2Fcustomers")


def test_static_files_are_served_under_their_hash_and_cached_forever(web, sample_event):
    static = importlib.import_module("screens.static")  # the package came with the handler
    asset = static.STATIC.assets["app.css"]
    event = sample_event("web/get-customers.json")
    event.update(path=asset.url, resource="/static/{proxy+}", queryStringParameters=None)
    event["multiValueQueryStringParameters"] = None

    response = call(web, event)

    assert response["statusCode"] == 200
    headers = headers_of(response)
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "Relance web app" in response["body"]


def test_a_stale_static_hash_and_an_unknown_page_are_404_pages(web, sample_event):
    for path in ("/static/000000000000/app.css", "/nowhere"):
        event = sample_event("web/get-customers.json")
        event.update(path=path, queryStringParameters=None, multiValueQueryStringParameters=None)

        response = call(web, event)

        assert response["statusCode"] == 404
        assert "text/html" in headers_of(response)["content-type"]
        assert "frame-ancestors 'none'" in headers_of(response)["content-security-policy"]


def test_the_vendored_assets_are_installed():
    from relance.web.assets import StaticFiles

    names = set(StaticFiles(ROOT / "functions" / "web" / "static").assets)

    assert {"htmx.min.js", "bootstrap.min.css", "app.css", "app.js"} <= names
