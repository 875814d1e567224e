"""Secrets Manager: a secret's value, read through Powertools parameters and kept for a while; and the
JSON secrets of the connections to source systems, read fresh and written (docs/integrations.md)."""

from __future__ import annotations

import json
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


def read_json(name: str) -> dict[str, str] | None:
    """The JSON object stored under ``name``, read now (not cached: a rotated token must be seen at once);
    None when no such secret exists yet."""
    secretsmanager = client("secretsmanager")
    try:
        answer = secretsmanager.get_secret_value(SecretId=name)
    except secretsmanager.exceptions.ResourceNotFoundException:
        return None
    stored = json.loads(answer["SecretString"])
    return {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else None


def write_json(name: str, value: dict[str, str], description: str) -> None:
    """Store ``value`` as the JSON of the secret ``name``: a new version of it, or the secret created.
    Neither the value nor any part of it is ever logged."""
    secretsmanager = client("secretsmanager")
    text = json.dumps(value)
    try:
        secretsmanager.put_secret_value(SecretId=name, SecretString=text)
    except secretsmanager.exceptions.ResourceNotFoundException:
        secretsmanager.create_secret(Name=name, Description=description, SecretString=text)
