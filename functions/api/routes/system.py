"""Health, the caller's identity, and the API's own documentation."""

from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from pydantic import AwareDatetime

from relance import __version__, clock
from relance.api.caller import caller
from relance.domain.base import RelanceModel
from relance.domain.organizations import Organization, OrganizationSettings, Principal
from relance.domain.senders import Sender
from relance.services.organization_admin import (
    OrganizationName,
    OrganizationView,
    organization_view,
    rename_organization,
    resend_sender_verification,
    update_settings,
)
from relance.services.organizations import get_organization

router = Router()


class Health(RelanceModel):
    status: str
    version: str
    time: AwareDatetime


class Identity(RelanceModel):
    principal: Principal
    organization: Organization


OPENAPI_FILE = Path(__file__).resolve().parent.parent / "openapi.json"
"""Generated from this code by ``make openapi``; a test fails when it drifts."""


@router.get("/health", tags=["system"], summary="Liveness of the API")
def get_health() -> Health:
    return Health(status="ok", version=__version__, time=clock.now())


@router.get("/v1/me", tags=["system"], summary="The caller and their organization")
def get_me(principal: Annotated[Principal, Depends(caller)]) -> Identity:
    return Identity(principal=principal, organization=get_organization(principal.organization_id))


@router.get(
    "/v1/organization",
    tags=["system"],
    summary="The caller's organization, its settings and where its sender's verification by SES stands",
)
def get_org(principal: Annotated[Principal, Depends(caller)]) -> OrganizationView:
    return organization_view(principal.organization_id)


@router.put(
    "/v1/organization/settings",
    tags=["system"],
    summary="Change the organization's settings (admin); a new senderEmail starts its verification by SES "
    "(409 when another organization uses it)",
)
def put_settings(principal: Annotated[Principal, Depends(caller)], body: OrganizationSettings) -> OrganizationView:
    update_settings(principal, body)
    return organization_view(principal.organization_id)


@router.put("/v1/organization/name", tags=["system"], summary="Rename the organization (admin)")
def put_name(principal: Annotated[Principal, Depends(caller)], body: OrganizationName) -> OrganizationView:
    rename_organization(principal, body)
    return organization_view(principal.organization_id)


@router.post(
    "/v1/organization/sender/verify",
    tags=["system"],
    summary="Send the sender address its verification email again (admin; at most once a minute)",
)
def post_sender_verify(principal: Annotated[Principal, Depends(caller)]) -> Sender:
    return resend_sender_verification(principal)


@router.get("/v1/openapi.json", include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(200, "application/json", OPENAPI_FILE.read_text(encoding="utf-8"))


@router.get("/v1/docs", include_in_schema=False)
def get_docs() -> Response[str]:
    # Swagger UI's module imports Powertools' OpenAPI models (~30 ms of pydantic classes): this page's first view
    # pays for them, not every cold start.
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    spec = OPENAPI_FILE.read_text(encoding="utf-8").replace("</", "<\\/")
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    return Response(200, "text/html", generate_swagger_html(spec, js, css, "", None))
