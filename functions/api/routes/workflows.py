"""Workflows: the dunning plans customers follow (steps, their offsets and actions, the minimum delay)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.organizations import Principal
from relance.domain.workflows import Workflow, WorkflowFields
from relance.errors import NotFound
from relance.services import workflows

router = Router()
Caller = Annotated[Principal, Depends(caller)]


@router.get("/v1/workflows", tags=["workflows"], summary="Workflows (dunning plans)")
def list_workflows(principal: Caller) -> Page[Workflow]:
    return Page[Workflow](items=workflows.list_workflows(principal))


@router.post("/v1/workflows", status_code=201, tags=["workflows"], summary="Create a workflow (admin)")
def create_workflow(principal: Caller, body: WorkflowFields) -> tuple[Workflow, int]:
    return workflows.create_workflow(principal, body), 201


@router.get("/v1/workflows/<workflow_id>", tags=["workflows"], summary="A workflow")
def get_workflow(principal: Caller, workflow_id: str) -> Workflow:
    found = workflows.get_workflow(principal.organization_id, workflow_id)
    if found is None:
        raise NotFound("workflow not found")
    return found


@router.put("/v1/workflows/<workflow_id>", tags=["workflows"], summary="Replace a workflow (admin)")
def replace_workflow(principal: Caller, workflow_id: str, body: WorkflowFields) -> Workflow:
    return workflows.replace_workflow(principal, workflow_id, body)


@router.delete(
    "/v1/workflows/<workflow_id>", status_code=204, tags=["workflows"], summary="Delete a workflow nobody follows"
)
def delete_workflow(principal: Caller, workflow_id: str) -> tuple[None, int]:
    workflows.delete_workflow(principal, workflow_id)
    return None, 204
