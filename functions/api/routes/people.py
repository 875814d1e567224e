"""Users, API keys, custom field definitions and organization settings."""

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from relance.api.caller import caller
from relance.api.pages import Page
from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.organizations import Principal
from relance.domain.users import ApiKey, ApiKeyFields, Invitation, Membership, User, UserFields, UserPatch
from relance.services import custom_fields, users
from relance.services.access import require_admin

router = Router()
Caller = Annotated[Principal, Depends(caller)]


@router.get("/v1/users", tags=["users"], summary="People of the organization")
def list_users(principal: Caller) -> Page[User]:
    return Page[User](items=users.list_users(principal))


@router.post("/v1/users", status_code=201, tags=["users"], summary="Invite a person (admin)")
def create_user(principal: Caller, body: UserFields) -> tuple[User, int]:
    return users.create_user(principal, body), 201


@router.get("/v1/users/<user_id>", tags=["users"], summary="A person")
def get_user(principal: Caller, user_id: str) -> User:
    return users.get_user(principal, user_id)


@router.patch("/v1/users/<user_id>", tags=["users"], summary="Change a person (role: admin only)")
def update_user(principal: Caller, user_id: str, body: UserPatch) -> User:
    return users.update_user(principal, user_id, body)


@router.delete("/v1/users/<user_id>", status_code=204, tags=["users"], summary="Remove a person (admin)")
def delete_user(principal: Caller, user_id: str) -> tuple[None, int]:
    users.delete_user(principal, user_id)
    return None, 204


@router.post(
    "/v1/users/<user_id>/resend-invitation",
    status_code=204,
    tags=["users"],
    summary="Send a person's invitation again, until they first sign in (admin)",
)
def resend_invitation(principal: Caller, user_id: str) -> tuple[None, int]:
    users.resend_invitation(principal, user_id)
    return None, 204


@router.get("/v1/api-keys", tags=["api keys"], summary="API keys (never their secret)")
def list_api_keys(principal: Caller) -> Page[ApiKey]:
    return Page[ApiKey](items=users.list_api_keys(principal))


@router.post("/v1/api-keys", status_code=201, tags=["api keys"], summary="Create an API key: its secret is shown once")
def create_api_key(principal: Caller, body: ApiKeyFields) -> tuple[ApiKey, int]:
    return users.create_api_key(principal, body), 201


@router.delete("/v1/api-keys/<key_id>", status_code=204, tags=["api keys"], summary="Revoke an API key")
def revoke_api_key(principal: Caller, key_id: str) -> tuple[None, int]:
    users.revoke_api_key(principal, key_id)
    return None, 204


@router.get("/v1/custom-fields", tags=["custom fields"], summary="Custom fields defined on customers")
def list_custom_fields(principal: Caller) -> Page[CustomFieldDefinition]:
    return Page[CustomFieldDefinition](items=custom_fields.list_definitions(principal.organization_id))


@router.post(
    "/v1/custom-fields", status_code=201, tags=["custom fields"], summary="Define or redefine a custom field (admin)"
)
def save_custom_field(principal: Caller, body: CustomFieldDefinition) -> tuple[CustomFieldDefinition, int]:
    require_admin(principal)
    return custom_fields.save_definition(principal, body), 201


@router.delete(
    "/v1/custom-fields/<key>", status_code=204, tags=["custom fields"], summary="Remove a custom field definition"
)
def delete_custom_field(principal: Caller, key: str) -> tuple[None, int]:
    custom_fields.delete_definition(principal, key)
    return None, 204


@router.get("/v1/invitations", tags=["users"], summary="Your invitations to other organizations")
def list_invitations(principal: Caller) -> Page[Invitation]:
    return Page[Invitation](items=users.list_invitations(principal))


@router.post(
    "/v1/invitations/<invitation_id>/accept",
    tags=["users"],
    summary="Accept: your identity moves to that organization (you leave yours); sign in again",
)
def accept_invitation(principal: Caller, invitation_id: str) -> Membership:
    return users.accept_invitation(principal, invitation_id)


@router.delete("/v1/invitations/<invitation_id>", status_code=204, tags=["users"], summary="Decline an invitation")
def decline_invitation(principal: Caller, invitation_id: str) -> tuple[None, int]:
    users.decline_invitation(principal, invitation_id)
    return None, 204
