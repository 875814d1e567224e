"""Cognito pre-sign-up trigger: a Google identity signs in only as an existing person (or by its
organization's sign-up domain); see ``relance.services.federation``."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from relance.observability import logger, traced
from relance.services.federation import pre_sign_up


@logger.inject_lambda_context(clear_state=True)
@traced
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return pre_sign_up(event)
