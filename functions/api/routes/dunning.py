"""Dunning: a customer's collection paused and resumed, actions (listed, out of the blue, skipped,
completed, reassigned) and the forecast of what dunning will do."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.actions import ActionStatus, ShownAction
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.services import actions, dunning
from relance.services.actions import ActionFilter, ForecastEntry, ManualAction

router = Router()
Caller = Annotated[Principal, Depends(caller)]


class CloseAction(RelanceModel):
    note: str | None = Field(default=None, max_length=5000)


class Reassign(RelanceModel):
    owner: str = Field(description="the user who takes it: one of the customer's account managers or an admin")


class CollectionState(RelanceModel):
    """Whether collection is paused for the customer: nothing is sent while it is."""

    collection_paused: bool


@router.post("/v1/customers/<customer_id>/pause", tags=["dunning"], summary="Pause collection: nothing is sent")
def pause(principal: Caller, customer_id: str) -> CollectionState:
    return CollectionState(collection_paused=dunning.pause(principal, customer_id).collection_paused)


@router.post("/v1/customers/<customer_id>/resume", tags=["dunning"], summary="Resume collection")
def resume(principal: Caller, customer_id: str) -> CollectionState:
    return CollectionState(collection_paused=dunning.resume(principal, customer_id).collection_paused)


@router.get("/v1/customers/<customer_id>/actions", tags=["dunning"], summary="A customer's actions")
def customer_actions(principal: Caller, customer_id: str) -> Page[ShownAction]:
    return Page[ShownAction](items=actions.customer_actions(principal, customer_id))


@router.get("/v1/actions", tags=["dunning"], summary="Actions: upcoming, done, skipped, failed")
def list_actions(
    principal: Caller,
    query: Annotated[ActionFilter, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> Page[ShownAction]:
    items, next_cursor = actions.list_actions(principal, query, limit, cursor)
    return Page[ShownAction](items=items, next_cursor=next_cursor)


@router.post(
    "/v1/actions", status_code=201, tags=["dunning"], summary="An action out of the blue: an email now, a task, a call"
)
def create_action(principal: Caller, body: ManualAction) -> tuple[ShownAction, int]:
    return ShownAction.model_validate(actions.create_manual(principal, body)), 201


@router.get("/v1/actions/forecast", tags=["dunning"], summary="What dunning will do in the next days, to whom")
def forecast(principal: Caller, days: Annotated[int, Query(ge=1, le=90)] = 14) -> Page[ForecastEntry]:
    return Page[ForecastEntry](items=actions.forecast(principal, days))


@router.post("/v1/actions/<action_id>/skip", tags=["dunning"], summary="Skip a planned action, a task or a call")
def skip(principal: Caller, action_id: str, body: CloseAction) -> ShownAction:
    skipped = dunning.close_manual_action(principal, action_id, ActionStatus.SKIPPED, body.note)
    return ShownAction.model_validate(skipped)


@router.post("/v1/actions/<action_id>/complete", tags=["dunning"], summary="Complete a task or call with a note")
def complete(principal: Caller, action_id: str, body: CloseAction) -> ShownAction:
    done = dunning.close_manual_action(principal, action_id, ActionStatus.DONE, body.note)
    return ShownAction.model_validate(done)


@router.post(
    "/v1/actions/<action_id>/reassign",
    tags=["dunning"],
    summary="Give an open task, call or Reply task to someone else",
)
def reassign(principal: Caller, action_id: str, body: Reassign) -> ShownAction:
    return ShownAction.model_validate(dunning.reassign_action(principal, action_id, body.owner))
