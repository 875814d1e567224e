"""Secrets Manager: a secret's value, read through Powertools parameters and kept for a while."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters

from relance.aws import client


@cache
def _provider(secretsmanager: Any) -> parameters.SecretsProvider:
    """One provider (and so one cache) per client: a new endpoint gets a new client."""
    return parameters.SecretsProvider(boto3_client=secretsmanager)


def value(arn: str, max_age: int) -> str:
    """The secret's string, read again from Secrets Manager once it is ``max_age`` seconds old."""
    return str(_provider(client("secretsmanager")).get(arn, max_age=max_age))
