"""Powertools logger, tracer and metrics: one of each per process, named here.

Named in code rather than by environment so that the order of imports never matters; the
log level still comes from ``POWERTOOLS_LOG_LEVEL`` (template.yaml).

Traces never hold data: a handler's response (new API keys, portal links with their token,
customers' data) and its exception (whose message may quote the request) stay out of X-Ray.
Every handler is wrapped by ``traced``, which turns both captures off whatever the environment
says; ``template.yaml`` turns them off too (``POWERTOOLS_TRACER_CAPTURE_RESPONSE``/``_ERROR``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "relance"
NAMESPACE = "Relance"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])


def traced(handler: Handler) -> Handler:
    """The Lambda handler in its X-Ray subsegment, recording neither its response nor its error."""
    return cast(Handler, tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False))
