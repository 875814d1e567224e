"""Workflows and email templates."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.domain.workflows import Tone, Workflow, WorkflowFields
from relance.errors import NotFound
from relance.services import templates, workflows
from relance.services.templates import EmailTemplate, Preview, TemplateFields

router = Router()
Caller = Annotated[Principal, Depends(caller)]


class PreviewRequest(RelanceModel):
    customer_id: str
    tone: Tone | None = None


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


@router.get("/v1/templates", tags=["templates"], summary="Shipped and own email templates")
def list_templates(principal: Caller) -> Page[EmailTemplate]:
    return Page[EmailTemplate](items=templates.list_templates(principal))


@router.post(
    "/v1/templates", status_code=201, tags=["templates"], summary="Create an email template (Jinja2, sandboxed)"
)
def create_template(principal: Caller, body: TemplateFields) -> tuple[EmailTemplate, int]:
    return templates.save_template(principal, body), 201


@router.get("/v1/templates/<template_id>", tags=["templates"], summary="An email template")
def get_template(principal: Caller, template_id: str) -> EmailTemplate:
    return templates.get_template(principal.organization_id, template_id)


@router.put("/v1/templates/<template_id>", tags=["templates"], summary="Replace an email template")
def replace_template(principal: Caller, template_id: str, body: TemplateFields) -> EmailTemplate:
    return templates.save_template(principal, body, template_id)


@router.delete("/v1/templates/<template_id>", status_code=204, tags=["templates"], summary="Delete an email template")
def delete_template(principal: Caller, template_id: str) -> tuple[None, int]:
    templates.delete_template(principal, template_id)
    return None, 204


@router.post("/v1/templates/<template_id>/preview", tags=["templates"], summary="Render a template for a customer")
def preview_template(principal: Caller, template_id: str, body: PreviewRequest) -> Preview:
    return templates.preview(principal, template_id, body.customer_id, body.tone)
