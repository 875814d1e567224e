"""Connections to the source systems an organization bills from (Stripe Billing, QuickBooks Online,
Salesforce): settings, secret, status and last run, "Sync now", and the records a run could not apply.
For administrators (an account manager is refused, 403). docs/integrations.md."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.integrations import Connection, ConnectionFields, StartedSync, SyncError
from relance.domain.organizations import Principal
from relance.services import integrations

router = Router()
Caller = Annotated[Principal, Depends(caller)]
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/v1/integrations",
    tags=["integrations"],
    summary="The source systems Relance syncs from, each with this organization's connection (admin)",
)
def list_integrations(principal: Caller) -> Page[Connection]:
    return Page[Connection](items=integrations.list_connections(principal))


@router.get(
    "/v1/integrations/<name>",
    tags=["integrations"],
    summary="A connection: settings, which secret fields are set (never their values), status, last run (admin)",
)
def get_integration(principal: Caller, name: str) -> Connection:
    return integrations.get_connection(principal, name)


@router.put(
    "/v1/integrations/<name>",
    tags=["integrations"],
    summary="Connect, change or disable a source: only the fields sent change; enabling queues a first run (admin)",
)
def put_integration(principal: Caller, name: str, body: ConnectionFields) -> Connection:
    return integrations.put_connection(principal, name, body)


@router.post(
    "/v1/integrations/<name>/sync",
    status_code=202,
    tags=["integrations"],
    summary="Sync now: queue a run of the connection (admin)",
)
def sync_now(principal: Caller, name: str) -> tuple[StartedSync, int]:
    return integrations.start_sync(principal, name), 202


@router.get(
    "/v1/integrations/<name>/errors",
    tags=["integrations"],
    summary="Source records the connection could not apply, newest first, kept until a run applies them (admin)",
)
def list_errors(principal: Caller, name: str, limit: Limit = 50, cursor: str | None = None) -> Page[SyncError]:
    items, next_cursor = integrations.list_errors(principal, name, limit, cursor)
    return Page[SyncError](items=items, next_cursor=next_cursor)
