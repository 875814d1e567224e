"""Email templates: shipped and the organization's own (Jinja2, sandboxed), and their preview for a customer."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.base import RelanceModel
from relance.domain.organizations import Principal
from relance.domain.workflows import Tone
from relance.services import templates
from relance.services.templates import EmailTemplate, Preview, TemplateFields

router = Router()
Caller = Annotated[Principal, Depends(caller)]


class PreviewRequest(RelanceModel):
    customer_id: str
    tone: Tone | None = None


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
