"""The Cognito user pool: people's sign-in identities.

An identity's username is the person's address; its attributes name the organization and the user
it belongs to (``custom:organization_id``, ``custom:user_id``) and its group is the user's role.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from relance.aws import client
from relance.settings import get_settings

NEVER_SIGNED_IN = "FORCE_CHANGE_PASSWORD"
"""Cognito's status of an invited identity until its first sign-in."""
EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"
"""Cognito's status of an identity made by a sign-in through another provider (Google)."""


class AddressTaken(Exception):
    """The pool already has an identity with this address."""


class AddressRefused(Exception):
    """Cognito does not accept this address as a username."""


@dataclass(frozen=True)
class Identity:
    email: str
    organization_id: str | None
    user_id: str | None
    status: str | None  # Cognito's UserStatus: NEVER_SIGNED_IN until the first sign-in

    def is_user(self, org_id: str, user_id: str) -> bool:
        """Whether this identity is the organization's user ``user_id``."""
        return self.organization_id == org_id and self.user_id == user_id


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _identity(username: str, attributes: list[dict[str, str]], status: str | None) -> Identity:
    named = {a["Name"]: a["Value"] for a in attributes}
    return Identity(
        email=str(named.get("email") or username).lower(),
        organization_id=named.get("custom:organization_id"),
        user_id=named.get("custom:user_id"),
        status=status,
    )


def _pool() -> tuple[str, Any]:
    return get_settings().user_pool_id, client("cognito-idp")


def get(email: str) -> Identity | None:
    """The identity of an address (AdminGetUser), or None."""
    pool, cognito = _pool()
    try:
        found = cognito.admin_get_user(UserPoolId=pool, Username=email)
    except ClientError as error:
        if _code(error) == "UserNotFoundException":
            return None
        raise
    return _identity(email, found.get("UserAttributes", []), found.get("UserStatus"))


def create(email: str, org_id: str, user_id: str, group: str, *, password: str | None = None) -> None:
    """A new identity for the organization's user, in ``group``: invited by Cognito's email, or,
    given a ``password``, signing in with it at once (no email). AddressTaken, AddressRefused."""
    pool, cognito = _pool()
    attributes = [
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:organization_id", "Value": org_id},
        {"Name": "custom:user_id", "Value": user_id},
    ]
    extra: dict[str, Any] = {"MessageAction": "SUPPRESS"} if password else {}
    try:
        cognito.admin_create_user(UserPoolId=pool, Username=email, UserAttributes=attributes, **extra)
    except ClientError as error:
        if _code(error) == "InvalidParameterException":
            raise AddressRefused(email) from error
        if _code(error) == "UsernameExistsException":
            raise AddressTaken(email) from error
        raise
    if password:
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)


def native_username(email: str) -> str | None:
    """The username of the pool's own identity with this address (not one made by a sign-in through
    another provider), or None (ListUsers filtered on the address)."""
    pool, cognito = _pool()
    found = cognito.list_users(UserPoolId=pool, Filter=f'email = "{email}"').get("Users", [])
    return next((str(u["Username"]) for u in found if u.get("UserStatus") != EXTERNAL_PROVIDER), None)


def link_provider(username: str, provider: str, subject: str) -> None:
    """Signing in with ``provider`` (``Google``) as its user ``subject`` is signing in as the pool's
    identity ``username`` (AdminLinkProviderForUser)."""
    pool, cognito = _pool()
    cognito.admin_link_provider_for_user(
        UserPoolId=pool,
        DestinationUser={"ProviderName": "Cognito", "ProviderAttributeValue": username},
        SourceUser={
            "ProviderName": provider,
            "ProviderAttributeName": "Cognito_Subject",
            "ProviderAttributeValue": subject,
        },
    )


def resend_invitation(email: str) -> None:
    """Cognito's invitation email again, with a new temporary password."""
    pool, cognito = _pool()
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="RESEND")


def change_group(email: str, group: str, previous: str | None = None) -> None:
    """The identity joins ``group`` and leaves ``previous`` (its role changed)."""
    pool, cognito = _pool()
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    if previous and previous != group:
        cognito.admin_remove_user_from_group(UserPoolId=pool, Username=email, GroupName=previous)


def move(email: str, org_id: str, user_id: str) -> None:
    """The identity is now the organization's user ``user_id`` (its attributes)."""
    pool, cognito = _pool()
    cognito.admin_update_user_attributes(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[
            {"Name": "custom:organization_id", "Value": org_id},
            {"Name": "custom:user_id", "Value": user_id},
        ],
    )


def sign_out_everywhere(email: str) -> None:
    """End every session of the identity (AdminUserGlobalSignOut)."""
    pool, cognito = _pool()
    cognito.admin_user_global_sign_out(UserPoolId=pool, Username=email)


def delete(email: str) -> None:
    pool, cognito = _pool()
    cognito.admin_delete_user(UserPoolId=pool, Username=email)


def never_signed_in() -> Iterator[Identity]:
    """Every identity of the pool still waiting for its first sign-in (ListUsers filtered on the
    status, 60 a page)."""
    pool, cognito = _pool()
    pages = cognito.get_paginator("list_users").paginate(
        UserPoolId=pool, Filter=f'cognito:user_status = "{NEVER_SIGNED_IN}"'
    )
    for page in pages:
        for found in page.get("Users", []):
            yield _identity(str(found.get("Username", "")), found.get("Attributes", []), found.get("UserStatus"))
