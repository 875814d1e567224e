"""Powertools logger, tracer and metrics: one of each per process, named here.

Named in code rather than by environment so that the order of imports never matters; the
log level still comes from ``POWERTOOLS_LOG_LEVEL`` (template.yaml).

Traces never hold data: a handler's response (new API keys, portal links with their token,
customers' data) and its exception (whose message may quote the request) stay out of X-Ray.
Every handler is wrapped by ``traced``, which turns both captures off whatever the environment
says; ``template.yaml`` turns them off too (``POWERTOOLS_TRACER_CAPTURE_RESPONSE``/``_ERROR``).

The tracer is made by the first traced invocation, not at import: that is when the X-Ray SDK is
imported and botocore patched (every AWS call is a subsegment). ``requests`` (Stripe, the source
connectors) is patched when something first imports it. Powertools' default, patching every library
the X-Ray SDK knows at import, cost each cold start ~35 ms for libraries Relance does not call.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "relance"
NAMESPACE = "Relance"

PATCHED_AT_START = ("botocore",)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

Handler = TypeVar("Handler", bound=Callable[..., Any])
_making = threading.Lock()  # the local runtime runs functions side by side in one process


@functools.cache
def _made_tracer() -> Tracer:
    from wrapt.importer import when_imported  # type: ignore[import-untyped]  # the X-Ray SDK's own patcher

    made = Tracer(service=SERVICE, patch_modules=PATCHED_AT_START)
    when_imported("requests")(lambda _: made.patch(["requests"]))
    return made


def _tracer() -> Tracer:
    with _making:
        return _made_tracer()


def __getattr__(name: str) -> Tracer:
    """``relance.observability.tracer``, made on first use."""
    if name == "tracer":
        return _tracer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def traced(handler: Handler) -> Handler:
    """The Lambda handler in its X-Ray subsegment, recording neither its response nor its error."""

    @functools.wraps(handler)
    def in_its_subsegment(event: Any, context: Any) -> Any:
        return _capturing(handler)(event, context)

    return cast(Handler, in_its_subsegment)


@functools.cache
def _capturing(handler: Callable[..., Any]) -> Callable[..., Any]:
    captured: Callable[..., Any] = _tracer().capture_lambda_handler(
        handler, capture_response=False, capture_error=False
    )
    return captured
