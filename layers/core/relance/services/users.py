"""Users (DynamoDB + the Cognito user pool), API keys, and who a bearer token is."""

from __future__ import annotations

from functools import cache
from typing import Any

import jwt
from botocore.exceptions import ClientError

from relance import clock
from relance.aws import client
from relance.domain import api_keys
from relance.domain.organizations import Principal
from relance.domain.users import ApiKey, ApiKeyFields, Role, User, UserFields, UserPatch, initials_of
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.observability import logger
from relance.services.access import require_admin
from relance.settings import get_settings
from relance.storage import organizations as org_store
from relance.storage import users as store


def _cognito_attributes(org_id: str, user_id: str, email: str) -> list[dict[str, str]]:
    return [
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:organization_id", "Value": org_id},
        {"Name": "custom:user_id", "Value": user_id},
    ]


def create_user(principal: Principal, fields: UserFields, *, password: str | None = None) -> User:
    """Create the person in the user pool (invited by email in AWS) and in the organization."""
    require_admin(principal)
    settings = get_settings()
    user = User(
        id=new_id("usr"),
        email=fields.email.lower(),
        name=fields.name,
        initials=fields.initials or initials_of(fields.name),
        role=fields.role,
        notification_channels=fields.notification_channels,
        slack_webhook_url=fields.slack_webhook_url,
        created_at=clock.now(),
    )
    cognito = client("cognito-idp")
    extra: dict[str, Any] = {"MessageAction": "SUPPRESS"} if password else {}
    try:
        cognito.admin_create_user(
            UserPoolId=settings.user_pool_id,
            Username=user.email,
            UserAttributes=_cognito_attributes(principal.organization_id, user.id, user.email),
            **extra,
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "UsernameExistsException":
            raise Conflict("a user with this email exists", {"email": "already used"}) from error
        raise
    if password:
        cognito.admin_set_user_password(
            UserPoolId=settings.user_pool_id, Username=user.email, Password=password, Permanent=True
        )
    cognito.admin_add_user_to_group(UserPoolId=settings.user_pool_id, Username=user.email, GroupName=user.role)
    store.save_user(principal.organization_id, user.model_dump(mode="json", by_alias=True))
    return user


def _as_seen_by(principal: Principal, user: User) -> User:
    """A Slack webhook lets whoever holds it post to that person: only they and admins see it."""
    if principal.is_admin or principal.user_id == user.id:
        return user
    return user.model_copy(update={"slack_webhook_url": None})


def get_user(principal: Principal, user_id: str) -> User:
    item = store.get_user(principal.organization_id, user_id)
    if item is None:
        raise NotFound("user not found")
    return _as_seen_by(principal, User.model_validate(item))


def list_users(principal: Principal) -> list[User]:
    return [_as_seen_by(principal, User.model_validate(i)) for i in store.list_users(principal.organization_id)]


def update_user(principal: Principal, user_id: str, patch: UserPatch) -> User:
    """Admins change anyone; a user changes their own name, initials and channels, not their role."""
    if not principal.is_admin and (principal.user_id != user_id or patch.role is not None):
        require_admin(principal)
    before = get_user(principal, user_id)
    changes = patch.model_dump(exclude_unset=True)
    if any(changes.get(k, "") is None for k in ("name", "initials", "role", "notification_channels")):
        raise Invalid("these fields cannot be cleared", {k: "required" for k in changes if changes[k] is None})
    after = before.model_copy(update=changes)
    if after.role != before.role:
        pool, cognito = get_settings().user_pool_id, client("cognito-idp")
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=before.email, GroupName=after.role)
        cognito.admin_remove_user_from_group(UserPoolId=pool, Username=before.email, GroupName=before.role)
    store.save_user(principal.organization_id, after.model_dump(mode="json", by_alias=True))
    return after


def delete_user(principal: Principal, user_id: str) -> None:
    require_admin(principal)
    user = get_user(principal, user_id)
    client("cognito-idp").admin_delete_user(UserPoolId=get_settings().user_pool_id, Username=user.email)
    store.delete_user(principal.organization_id, user_id)


# ---------------------------------------------------------------- bearer tokens


@cache
def _jwks(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def authenticate_bearer(token: str) -> Principal | None:
    """The principal of a Cognito ID token of this user pool, or None if it is not one."""
    settings = get_settings()
    try:
        key = _jwks(settings.cognito_jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.user_pool_client_id,
            issuer=settings.cognito_issuer,
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as error:
        logger.info("bearer token refused", reason=str(error))
        return None
    groups = claims.get("cognito:groups") or []
    role = Role.ADMIN if Role.ADMIN in groups else Role.ACCOUNT_MANAGER if Role.ACCOUNT_MANAGER in groups else None
    organization_id, user_id = claims.get("custom:organization_id"), claims.get("custom:user_id")
    if claims.get("token_use") != "id" or role is None or not organization_id or not user_id:
        return None
    return Principal(organization_id=organization_id, role=role.value, principal_id=f"user:{user_id}", user_id=user_id)


# ---------------------------------------------------------------- API keys


def create_api_key(principal: Principal, fields: ApiKeyFields) -> ApiKey:
    """A new admin key of the organization; its secret is in this answer only."""
    require_admin(principal)
    plaintext, secret_hash = api_keys.generate(principal.organization_id)
    key = ApiKey(id=new_id("key"), name=fields.name, role=Role.ADMIN.value, created_at=clock.now())
    org_store.put_api_key(
        principal.organization_id, secret_hash, key.model_dump(mode="json", by_alias=True, exclude={"key"})
    )
    return key.model_copy(update={"key": plaintext})


def list_api_keys(principal: Principal) -> list[ApiKey]:
    require_admin(principal)
    return [
        ApiKey.model_validate({k: v for k, v in i.items() if k != "secretHash"})
        for i in org_store.list_api_keys(principal.organization_id)
    ]


def revoke_api_key(principal: Principal, key_id: str) -> None:
    require_admin(principal)
    for item in org_store.list_api_keys(principal.organization_id):
        if item["id"] == key_id:
            org_store.delete_api_key(principal.organization_id, item["secretHash"])
            return
    raise NotFound("API key not found")
