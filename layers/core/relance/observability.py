"""Powertools logger, tracer and metrics: one of each per process, named by the environment.

``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` come from template.yaml;
handlers decorate their entry point with these objects.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
