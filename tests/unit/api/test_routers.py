"""Routers imported on a request's first need (relance.api.routers): the API's table gives every route's
path to the module that routes it, whatever was loaded before, and a cold start loads that module only."""

from __future__ import annotations

import sys
import types

import pytest
from aws_lambda_powertools.event_handler.api_gateway import Router

from local.functions import FunctionRegistry
from local.template import Template
from relance.api.resolver import OwnEventResolver
from relance.api.routers import RouterTable
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def api_module():
    function = FunctionRegistry(Template(ROOT / "template.yaml"))["ApiFunction"]
    function.load()
    return function.module


def test_the_api_table_gives_each_route_to_the_module_that_routes_it(api_module):
    assert list(api_module.ROUTERS.check(api_module.app)) == []


def test_the_web_apps_table_gives_each_route_to_the_screen_that_routes_it():
    function = FunctionRegistry(Template(ROOT / "template.yaml"))["WebFunction"]
    function.load()

    assert list(function.module.SCREENS.check(function.module.app)) == []


def test_the_portals_table_gives_each_route_to_the_view_that_routes_it():
    function = FunctionRegistry(Template(ROOT / "template.yaml"))["PortalFunction"]
    function.load()

    assert list(function.module.VIEWS.check(function.module.app)) == []


def package(name: str, **routers: Router) -> types.ModuleType:
    """A package ``name`` whose modules are ``routers`` (each module's ``router``), as if imported."""
    parent = types.ModuleType(name)
    parent.__path__ = []
    sys.modules[name] = parent
    for module, router in routers.items():
        child = types.ModuleType(f"{name}.{module}")
        child.router = router  # type: ignore[attr-defined]
        sys.modules[f"{name}.{module}"] = child
    return parent


@pytest.fixture
def routers():
    customers, contacts = Router(), Router()

    @customers.get("/v1/customers/<customer_id>")
    def get_customer(customer_id: str) -> dict:
        return {"customer": customer_id}

    @contacts.get("/v1/customers/<customer_id>/contacts")
    def get_contacts(customer_id: str) -> dict:
        return {"contactsOf": customer_id}

    @contacts.get("/v1/customers/export")  # a path customers' route matches too: no table may split them
    def get_export() -> dict:
        return {}

    yield package("fake_routes", customers=customers, contacts=contacts)
    for name in [name for name in sys.modules if name.partition(".")[0] == "fake_routes"]:
        del sys.modules[name]


def event(path: str) -> dict:
    return {"httpMethod": "GET", "path": path, "resource": path, "headers": {}, "requestContext": {}, "body": None}


def test_a_request_includes_the_router_of_its_path_only_and_once(routers):
    table = RouterTable(routers, {"customers": ("/v1/customers",), "contacts": ("/v1/customers/*/contacts",)})
    app = OwnEventResolver(routers=table)

    first = app.resolve(event("/v1/customers/c1"), None)
    assert first["statusCode"] == 200
    assert {route.rule.pattern for route in app._dynamic_routes} == {
        app._compile_regex("/v1/customers/<customer_id>").pattern
    }

    assert app.resolve(event("/v1/customers/c1/contacts"), None)["body"] == '{"contactsOf":"c1"}'
    assert app.resolve(event("/v1/customers/c2"), None)["statusCode"] == 200
    assert len(app._dynamic_routes) == 2  # each router included once
    assert app.resolve(event("/v1/elsewhere"), None)["statusCode"] == 404


def test_the_check_finds_a_route_given_to_another_module(routers):
    table = RouterTable(routers, {"customers": ("/v1/customers",), "contacts": ("/v1/customers/*/contacts",)})

    assert list(table.check(OwnEventResolver())) == [
        "GET /v1/customers/export is routed by contacts but the table gives /v1/customers/export to customers",
    ]
    table = RouterTable(
        routers, {"customers": ("/v1/customers",), "contacts": ("/v1/customers/*/contacts", "/v1/customers/export")}
    )
    assert list(table.check(OwnEventResolver())) == []  # a fixed path is tried before another's parameter


def test_the_check_finds_a_path_routes_of_two_modules_match():
    notes, sections = Router(), Router()

    @notes.get("/v1/things/<thing_id>/notes")
    def get_notes(thing_id: str) -> dict:
        return {}

    @sections.get("/v1/things/<thing_id>/<section>")
    def get_section(thing_id: str, section: str) -> dict:
        return {}

    things = package("fake_things", notes=notes, sections=sections)
    try:
        table = RouterTable(things, {"notes": ("/v1/things/*/notes",), "sections": ("/v1/things",)})

        assert list(table.check(OwnEventResolver())) == [
            "GET /v1/things/x1/notes matches /v1/things/<thing_id>/notes in notes "
            "and /v1/things/<thing_id>/<section> in sections",
        ]
    finally:
        for name in [name for name in sys.modules if name.partition(".")[0] == "fake_things"]:
            del sys.modules[name]


def test_the_most_specific_pattern_wins_and_a_pattern_has_one_module():
    table = RouterTable(types.ModuleType("unused"), {"a": ("/v1/customers",), "b": ("/v1/customers/*/contacts",)})

    assert table.module_for("/v1/customers") == "a"
    assert table.module_for("/v1/customers/c1/contacts/x") == "b"
    assert table.module_for("/v1/customers/c1/notes") == "a"
    assert table.module_for("/v1/customer") is None
    assert RouterTable(types.ModuleType("unused"), {"b": ("/v1/*",), "a": ("/v1/x",)}).module_for("/v1/x") == "a"
    with pytest.raises(ValueError, match="claimed by a and b"):
        RouterTable(types.ModuleType("unused"), {"a": ("/v1/x",), "b": ("/v1/x/",)})
