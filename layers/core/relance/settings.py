"""Deployment settings, read once from the function's environment (set by template.yaml).

A pydantic model validating ``os.environ``, each field under its variable's name: what
pydantic-settings' BaseSettings did here, without its sources (dotenv, secrets files, cloud vaults,
a CLI parser) that every cold start imported (~11 ms) and no function used.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    """What a function needs to know about the stack it runs in."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: str = Field(default="local", validation_alias="STAGE")
    table_name: str = Field(default="relance", validation_alias="TABLE_NAME")
    documents_bucket: str = Field(default="relance-documents", validation_alias="DOCUMENTS_BUCKET")
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    user_pool_id: str = Field(default="", validation_alias="USER_POOL_ID")
    user_pool_client_id: str = Field(default="", validation_alias="USER_POOL_CLIENT_ID")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    public_base_url: str = Field(default="http://127.0.0.1:3000", validation_alias="PUBLIC_BASE_URL")
    reply_domain: str = Field(default="replies.relance.local", validation_alias="REPLY_DOMAIN")
    ses_configuration_set: str | None = Field(default=None, validation_alias="SES_CONFIGURATION_SET")
    dunning_state_machine_arn: str | None = Field(default=None, validation_alias="DUNNING_STATE_MACHINE_ARN")
    dunning_plan_function: str | None = Field(
        default=None,
        validation_alias="DUNNING_PLAN_FUNCTION",
        description="the function that plans a customer's next action and starts its execution, invoked asynchronously",
    )
    nudge_queue_url: str | None = Field(default=None, validation_alias="NUDGE_QUEUE_URL")
    sync_worker_function: str | None = Field(
        default=None,
        validation_alias="SYNC_WORKER_FUNCTION",
        description="the function running the source-system connections, invoked asynchronously per run",
    )
    organization_requests_per_second: int = Field(
        default=25, ge=1, validation_alias="ORGANIZATION_REQUESTS_PER_SECOND", description="the API's limit (429)"
    )
    stripe_secret_arn: str | None = Field(default=None, validation_alias="STRIPE_SECRET_ARN")
    stripe_api_base: str | None = Field(
        default=None, validation_alias="STRIPE_API_BASE", description="local runtime only: its Stripe stand-in"
    )
    stripe_billing_api_base: str | None = Field(
        default=None,
        validation_alias="STRIPE_BILLING_API_BASE",
        description="the Stripe API of the Stripe Billing connector (None: Stripe's own); locally, its stand-in",
    )
    quickbooks_api_base: str | None = Field(
        default=None,
        validation_alias="QUICKBOOKS_API_BASE",
        description="local runtime only: its QuickBooks Online stand-in (…/v3); else Intuit's, by environment",
    )
    quickbooks_discovery_url: str | None = Field(
        default=None,
        validation_alias="QUICKBOOKS_DISCOVERY_URL",
        description="local runtime only: its Intuit OpenID discovery document (where the token endpoint is)",
    )
    idempotency_table_name: str = Field(default="relance-idempotency", validation_alias="IDEMPOTENCY_TABLE_NAME")
    web_secret_arn: str | None = Field(default=None, validation_alias="WEB_SECRET_ARN")
    auth_domain: str = Field(
        default="", validation_alias="AUTH_DOMAIN", description="the Cognito managed login's domain; empty for none"
    )
    cognito_login_base: str | None = Field(
        default=None, validation_alias="COGNITO_LOGIN_BASE", description="local runtime only: its managed login"
    )
    salesforce_login_url: str | None = Field(
        default=None,
        validation_alias="SALESFORCE_LOGIN_URL",
        description="local runtime only: its Salesforce stand-in (else each connection's My Domain URL)",
    )
    salesforce_ca_bundle: str | None = Field(
        default=None,
        validation_alias="SALESFORCE_CA_BUNDLE",
        description="local runtime only: the certificate authority of its Salesforce stand-in (HTTPS)",
    )

    @classmethod
    def from_environment(cls) -> Settings:
        return cls.model_validate(dict(os.environ))

    @property
    def cognito_issuer(self) -> str:
        """The ``iss`` of the user pool's tokens."""
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.user_pool_id}"

    @property
    def login_base_url(self) -> str | None:
        """Where the managed login serves ``/oauth2/*`` and ``/logout``; None without a domain."""
        if self.cognito_login_base:
            return self.cognito_login_base.rstrip("/")
        return f"https://{self.auth_domain}" if self.auth_domain else None

    @property
    def cognito_jwks_url(self) -> str:
        """Where the pool publishes its signing keys (moto's copy when an endpoint is set)."""
        base = f"{self.aws_endpoint_url}/{self.user_pool_id}" if self.aws_endpoint_url else self.cognito_issuer
        return f"{base}/.well-known/jwks.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process; tests clear the cache after changing the environment."""
    return Settings.from_environment()
