"""Each HTTP function's resolver keeps the request it handles on itself: another function answering
meanwhile in the same process (the local runtime) does not change what this one reads."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.api.resolver import OwnEventResolver


def event(path: str) -> dict:
    return {"httpMethod": "GET", "path": path, "resource": path, "headers": {}, "requestContext": {}, "body": None}


def test_another_functions_request_meanwhile_does_not_become_this_ones():
    web, api, pages = OwnEventResolver(), OwnEventResolver(), Router()
    seen: list[str] = []

    @pages.get("/page")
    def page() -> dict:
        before = pages.current_event.path
        api.resolve(event("/v1/other"), None)  # the API answers while the page waits on DynamoDB
        seen.extend([before, pages.current_event.path, web.current_event.path])
        return {}

    @api.get("/v1/other")
    def other() -> dict:
        return {}

    web.include_router(pages)
    web.resolve(event("/page"), None)

    assert seen == ["/page", "/page", "/page"]
