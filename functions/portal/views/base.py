"""What every portal view answers with: HTML or a redirect with the portal's security headers, and the
visitor's form read into a model (a 4xx naming the fields otherwise)."""

from typing import Any, TypeVar
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import BaseModel, ValidationError

from relance.errors import Invalid, validation_fields
from relance.portal import pages
from relance.settings import get_settings

M = TypeVar("M", bound=BaseModel)


def link_url(token: str) -> str:
    return f"{get_settings().public_base_url}/portal/{token}"


def html(body: str, status: int = 200) -> Response[str]:
    return Response(status, "text/html; charset=utf-8", body, headers=pages.security_headers())


def redirect(location: str) -> Response[str]:
    return Response(303, "text/html; charset=utf-8", "", headers={**pages.security_headers(), "Location": location})


def form(router: Router) -> dict[str, list[str]]:
    return parse_qs(router.current_event.decoded_body or "", keep_blank_values=False)


def model(model_type: type[M], values: dict[str, Any]) -> M:
    try:
        return model_type.model_validate({k: v for k, v in values.items() if v not in (None, "", [])})
    except ValidationError as error:
        fields = validation_fields(error.errors())
        raise Invalid(f"please check: {', '.join(fields)}", fields) from error
