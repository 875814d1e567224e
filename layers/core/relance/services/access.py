"""Who may see and change what: account managers see only their customers, as if no other existed."""

from __future__ import annotations

from typing import Any

from relance.domain.organizations import Principal
from relance.errors import Forbidden, NotFound


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an administrator can do this")


def can_see(principal: Principal, customer: dict[str, Any]) -> bool:
    return principal.is_admin or principal.user_id in customer.get("accountManagerIds", [])


def visible(principal: Principal, customer: dict[str, Any] | None) -> dict[str, Any]:
    """The customer if the principal may see it; otherwise 404, exactly as if it did not exist."""
    if customer is None or not can_see(principal, customer):
        raise NotFound("customer not found")
    return customer
