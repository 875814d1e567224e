"""Signing in with Google (a Cognito identity provider): who a Google identity may be.

Cognito calls the pre-sign-up trigger (``PreSignUp_ExternalProvider``) the first time a Google
identity signs in. A Google identity signs in only as an existing person of an organization,
matched by the address Google verified: the trigger links it to that person's user
(``AdminLinkProviderForUser``), so the tokens are that user's (organization, role). An address
nobody has is refused — unless an organization lets its domain sign up (``signUpDomains``):
the person then joins it as an account manager. Raising refuses the sign-in; Cognito sends the
browser back to the app's callback with the message.
"""

from __future__ import annotations

import secrets
from typing import Any

from relance import user_pool
from relance.domain.organizations import OrganizationSettings, Principal
from relance.domain.users import Role, UserFields
from relance.observability import logger
from relance.services import users
from relance.storage import organizations as org_store


class SignUpRefused(Exception):
    """The external identity may not sign in (the message reaches the person)."""


def _organization_for(domain: str) -> str | None:
    """The organization that lets people of ``domain`` sign up (every organization read: sign-ups are rare)."""
    for item in org_store.list_all():
        settings = OrganizationSettings.model_validate(item.get("settings") or {})
        if domain in settings.sign_up_domains:
            return str(item["id"])
    return None


def pre_sign_up(event: dict[str, Any]) -> dict[str, Any]:
    """The pre-sign-up trigger's answer: an external identity linked to its person, or SignUpRefused."""
    if event.get("triggerSource") != "PreSignUp_ExternalProvider":
        return event  # people an admin creates (invitations) need nothing here
    attributes = event["request"]["userAttributes"]
    email = str(attributes.get("email", "")).strip().lower()
    provider, _, subject = str(event["userName"]).partition("_")
    if not email or str(attributes.get("email_verified", "")).lower() != "true":
        raise SignUpRefused("Google did not confirm this email address.")
    username = user_pool.native_username(email)
    if username is None:
        org_id = _organization_for(email.rpartition("@")[2])
        if org_id is None:
            logger.info("external sign-in refused: no such user", provider=provider)
            raise SignUpRefused(f"No Relance user has the address {email}: ask your administrator to invite you.")
        founder = Principal(organization_id=org_id, role="admin", principal_id=f"sign-up:{provider}")
        name = str(attributes.get("name") or email.partition("@")[0])
        # A password nobody knows (and no invitation email): this person signs in with Google only.
        unknown = f"{secrets.token_urlsafe(24)}aA1!"
        users.create_user(founder, UserFields(email=email, name=name, role=Role.ACCOUNT_MANAGER), password=unknown)
        username = user_pool.native_username(email)
        if username is None:
            raise SignUpRefused("The account could not be created: please try again.")
    user_pool.link_provider(username, provider.capitalize() if provider.islower() else provider, subject)
    logger.info("external identity linked", provider=provider)
    return event
