"""Powertools idempotency's records (``IdempotencyTable``): what a handled event answered, kept so the
same event is not handled twice."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from relance.aws import client
from relance.settings import get_settings


def persistence_layer() -> DynamoDBPersistenceLayer:
    """The idempotency table's persistence layer, on this process's DynamoDB client."""
    return _layer(client("dynamodb"))


@cache
def _layer(dynamodb: Any) -> DynamoDBPersistenceLayer:
    """One layer per client: a new endpoint (tests, the local runtime) gets a new client, so a new layer."""
    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name, boto3_client=dynamodb)
