"""Powertools logger, tracer and metrics: one of each per process, named here.

Named in code rather than by environment so that the order of imports never matters; the
log level still comes from ``POWERTOOLS_LOG_LEVEL`` (template.yaml).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "relance"
NAMESPACE = "Relance"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
