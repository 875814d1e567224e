"""Workflows: each with its language, tone, minimum delay between contacts and steps, read-only
(they are written through the API for now)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.services import workflows
from screens.base import page, signed_in
from screens.customers import ACTIONS

router = Router()


@router.get("/workflows")
def workflows_page() -> Response[str]:
    person = signed_in(router)
    listed = sorted(workflows.list_workflows(person.principal), key=lambda w: w.name.lower())
    return page(router, person, "workflows.html", nav="workflows", workflows=listed, actions=ACTIONS)
