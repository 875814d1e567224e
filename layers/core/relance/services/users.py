"""Users (DynamoDB + the Cognito user pool), API keys, and who a bearer token is.

A person is an email address with one Cognito identity (the pool's usernames are addresses), and
that identity belongs to one organization (``custom:organization_id``). Adding an address that is
already a user of the organization is a 409; adding one whose identity belongs to another
organization answers exactly as for a new address (nothing tells the caller that another
organization exists) and invites the person instead: their user record waits (``pendingIdentity``),
the invitation is stored under their address and emailed to them, and they resolve it themselves
(``GET /v1/invitations``; accept, which moves their identity here and takes them out of the other
organization, or decline). Changing or removing a user touches the identity only when it is this
organization's and this user's.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from relance import clock, user_pool
from relance.domain import api_keys
from relance.domain.organizations import Principal
from relance.domain.users import (
    ApiKey,
    ApiKeyFields,
    Invitation,
    Membership,
    Role,
    User,
    UserFields,
    UserPatch,
    initials_of,
)
from relance.errors import Conflict, Invalid, NotFound
from relance.ids import new_id
from relance.mail import ses
from relance.observability import logger, metrics
from relance.services.access import require_admin
from relance.settings import get_settings
from relance.storage import organizations as org_store
from relance.storage import users as store

if TYPE_CHECKING:
    from jwt import PyJWKClient


def _identity_is(org_id: str, user_id: str, email: str) -> bool:
    """Whether the address's identity is this organization's user ``user_id`` (else it is left alone)."""
    identity = user_pool.get(email)
    return identity is not None and identity.is_user(org_id, user_id)


def create_user(principal: Principal, fields: UserFields, *, password: str | None = None) -> User:
    """Create the person in the user pool (invited by email in AWS) and in the organization; an
    address whose identity is another organization's is invited instead, answered the same."""
    require_admin(principal)
    email = fields.email.lower()
    if store.find_by_email(principal.organization_id, email):
        raise Conflict("this address is already a user of the organization", {"email": "already used"})
    user = User(
        id=new_id("usr"),
        email=fields.email.lower(),
        name=fields.name,
        initials=fields.initials or initials_of(fields.name),
        role=fields.role,
        notification_channels=fields.notification_channels,
        slack_webhook_url=fields.slack_webhook_url,
        weekly_digest=fields.weekly_digest,
        created_at=clock.now(),
    )
    try:
        user_pool.create(user.email, principal.organization_id, user.id, user.role, password=password)
    except user_pool.AddressRefused as error:  # an address only Cognito refuses
        raise Invalid("the user pool refuses this address", {"email": "not an address Cognito accepts"}) from error
    except user_pool.AddressTaken as error:
        identity = user_pool.get(user.email)
        if identity is not None and identity.organization_id == principal.organization_id:
            raise Conflict("this address is already a user of the organization", {"email": "already used"}) from error
        return _invite(principal.organization_id, user)  # another organization's: answered as a new address
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
    """Admins change anyone; a user changes their own name, initials, channels and weekly digest, not their role."""
    if not principal.is_admin and (principal.user_id != user_id or patch.role is not None):
        require_admin(principal)
    before = get_user(principal, user_id)
    changes = patch.model_dump(exclude_unset=True)
    if any(changes.get(k, "") is None for k in ("name", "initials", "role", "notification_channels", "weekly_digest")):
        cleared = {UserPatch.model_fields[k].alias or k: "required" for k in changes if changes[k] is None}
        raise Invalid("these fields cannot be cleared", cleared)  # named as on the wire
    after = before.model_copy(update=changes)
    item = store.get_user(principal.organization_id, user_id) or {}
    internal: dict[str, Any] = {k: item[k] for k in ("pendingIdentity", "invitationId") if k in item}
    if after.role != before.role and not internal and _identity_is(principal.organization_id, user_id, before.email):
        user_pool.change_group(before.email, after.role, previous=before.role)
    store.save_user(principal.organization_id, {**after.model_dump(mode="json", by_alias=True), **internal})
    return after


def delete_user(principal: Principal, user_id: str) -> None:
    """Remove the person; their identity too when it is this organization's (an invited person's is theirs)."""
    require_admin(principal)
    org_id = principal.organization_id
    item = store.get_user(org_id, user_id)
    if item is None:
        raise NotFound("user not found")
    email = str(item["email"]).lower()
    if item.get("pendingIdentity"):
        store.delete_invitation(email, str(item.get("invitationId", "")))
    elif _identity_is(org_id, user_id, email):
        user_pool.delete(email)
    store.delete_user(org_id, user_id)


def not_signed_in_yet(principal: Principal) -> set[str]:
    """The people of the organization whose invitation still waits (admin): Cognito's users who never
    signed in (``FORCE_CHANGE_PASSWORD``, one filtered ListUsers a page of 60) and those invited to move
    from another organization."""
    require_admin(principal)
    org_id = principal.organization_id
    items = store.list_users(org_id)
    waiting = {str(i["id"]) for i in items if i.get("pendingIdentity")}
    by_email = {str(i["email"]).lower(): str(i["id"]) for i in items}
    for identity in user_pool.never_signed_in():
        if identity.organization_id == org_id and identity.email in by_email:
            waiting.add(by_email[identity.email])
    return waiting


def resend_invitation(principal: Principal, user_id: str) -> None:
    """Send the person's invitation again (admin): Cognito's email with a new temporary password while
    they have not signed in yet, or the invitation to move here for a person of another organization;
    409 once they have signed in (they reset a lost password on the sign-in page)."""
    require_admin(principal)
    org_id = principal.organization_id
    item = store.get_user(org_id, user_id)
    if item is None:
        raise NotFound("user not found")
    user = User.model_validate(item)
    if item.get("pendingIdentity"):
        _email_invitation(org_store.get(org_id) or {}, user)
        return
    identity = user_pool.get(user.email)
    if identity is None or identity.status != user_pool.NEVER_SIGNED_IN:
        raise Conflict(
            "this person has already signed in: there is no invitation to send again",
            {"userId": "signed in already; a lost password is reset from the sign-in page"},
        )
    user_pool.resend_invitation(user.email)


# ---------------------------------------------------------------- invitations


def _invite(org_id: str, user: User) -> User:
    """The person's identity is another organization's: their user waits here, invited."""
    invitation_id = new_id("ivt")
    store.save_user(
        org_id, {**user.model_dump(mode="json", by_alias=True), "pendingIdentity": True, "invitationId": invitation_id}
    )
    organization = org_store.get(org_id) or {}
    store.put_invitation(
        user.email,
        {
            "id": invitation_id,
            "organizationId": org_id,
            "organizationName": organization.get("name", ""),
            "userId": user.id,
            "invitedAt": user.created_at.isoformat(),
        },
    )
    _email_invitation(organization, user)
    return user


def _email_invitation(organization: dict[str, Any], user: User) -> None:
    """Tell the person (from the inviting organization's sender address); never fails the request."""
    sender = (organization.get("settings") or {}).get("senderEmail")
    if not sender:
        logger.info("no sender address: invitation not emailed", user_id=user.id)
        return
    name = organization.get("name", "An organization")
    text = (
        f"{name} invited you to Relance as {user.role.value.replace('_', ' ')}.\n\n"
        "Your address already belongs to another organization on Relance, and an address belongs to one "
        "organization at a time. Sign in, then accept the invitation (GET /v1/invitations, "
        "POST /v1/invitations/{id}/accept) to move to "
        f"{name} - your access to the other organization ends - or decline it.\n\n{get_settings().public_base_url}\n"
    )
    try:
        ses.send_text(("", sender), user.email, f"{name} invited you to Relance", text)
    except Exception:  # the invitation is stored; the caller's answer must not differ
        logger.exception("invitation email failed", user_id=user.id)
        metrics.add_metric(name="InvitationEmailFailed", unit="Count", value=1)


def _my_email(principal: Principal) -> str | None:
    if not principal.user_id:
        return None  # an API key is nobody's person
    me = store.get_user(principal.organization_id, principal.user_id)
    return str(me["email"]).lower() if me else None


def list_invitations(principal: Principal) -> list[Invitation]:
    """The caller's invitations to other organizations, oldest first."""
    email = _my_email(principal)
    if not email:
        return []
    shown = []
    for invitation in store.invitations_of(email):
        invited = store.get_user(str(invitation["organizationId"]), str(invitation["userId"]))
        if invited and invited.get("pendingIdentity"):  # the role as the inviting organization set it last
            shown.append(Invitation.model_validate({**invitation, "role": invited["role"]}))
    return shown


def _my_invitation(principal: Principal, invitation_id: str) -> tuple[str, dict[str, Any]]:
    email = _my_email(principal)
    invitation = store.get_invitation(email, invitation_id) if email else None
    if not email or invitation is None:
        raise NotFound("invitation not found")
    return email, invitation


def accept_invitation(principal: Principal, invitation_id: str) -> Membership:
    """Move the caller's identity to the inviting organization, as the user it invited; the caller
    leaves their organization (their user there is removed). They sign in again to act there."""
    email, invitation = _my_invitation(principal, invitation_id)
    target_org, target_id = str(invitation["organizationId"]), str(invitation["userId"])
    target = store.get_user(target_org, target_id)
    if target is None or not target.get("pendingIdentity"):
        store.delete_invitation(email, invitation_id)  # withdrawn meanwhile
        raise NotFound("invitation not found")
    if not _identity_is(principal.organization_id, str(principal.user_id), email):
        raise NotFound("invitation not found")
    me = store.get_user(principal.organization_id, str(principal.user_id)) or {}
    user_pool.move(email, target_org, target_id)
    user_pool.change_group(email, target["role"], previous=me.get("role"))
    user_pool.sign_out_everywhere(email)  # sessions of the old organization end
    store.save_user(target_org, {k: v for k, v in target.items() if k not in ("pendingIdentity", "invitationId")})
    store.delete_user(principal.organization_id, str(principal.user_id))
    store.delete_invitation(email, invitation_id)
    logger.info("invitation accepted", invitation_id=invitation_id)
    return Membership(organization_id=target_org, user_id=target_id, role=target["role"])


def decline_invitation(principal: Principal, invitation_id: str) -> None:
    """The caller declines: the invitation is gone for them (the inviting organization's user stays invited)."""
    email, _ = _my_invitation(principal, invitation_id)
    store.delete_invitation(email, invitation_id)


# ---------------------------------------------------------------- bearer tokens


@cache
def _jwks(url: str) -> PyJWKClient:
    from jwt import PyJWKClient  # loaded by the first bearer token: the API function never checks one

    return PyJWKClient(url, cache_keys=True, lifespan=3600)


def authenticate_bearer(token: str) -> Principal | None:
    """The principal of a Cognito ID token of this user pool, or None if it is not one."""
    import jwt

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
