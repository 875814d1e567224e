"""Who may see and change what: account managers see only their customers, as if no other existed.

The rules, all enforced here (in ``relance.services``), so every caller inherits them:

- an admin (a person in the ``admin`` group, or any API key) sees and changes everything of
  their organization;
- an account manager sees only the customers whose ``accountManagerIds`` include them (any other
  customer, and everything of it, is a 404 exactly as if it did not exist) and reads them: changing
  customers, their contacts and the ledger, resolving disputes, and handling the mail that matched
  no customer are for admins (403);
- a note may mention only people who see its customer (422 naming ``body``), and a task or call
  is assigned only to someone who sees its customer (422 naming ``owner``): nobody is told about a
  customer they cannot open;
- a saved view is its owner's and private unless an admin shared it (``services/views.py``): another
  person's private view is a 404, as if absent; only an admin shares one (403 naming ``shared``); a
  view is changed or deleted by its owner, or by an admin when shared (403).
"""

from __future__ import annotations

from typing import Any

from relance.domain.customers import CustomerRecord
from relance.domain.organizations import Principal
from relance.errors import Forbidden, NotFound
from relance.storage import customers as customer_store


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("only an administrator can do this")


def _managers(customer: CustomerRecord | dict[str, Any]) -> list[str]:
    """The customer's account managers, from its record or its item as stored."""
    if isinstance(customer, CustomerRecord):
        return customer.account_manager_ids
    return list(customer.get("accountManagerIds", []))


def person_can_see(user: dict[str, Any], customer: CustomerRecord | dict[str, Any]) -> bool:
    """Whether a person of the organization (their user record) sees the customer."""
    return user.get("role") == "admin" or user.get("id") in _managers(customer)


def can_see(principal: Principal, customer: CustomerRecord | dict[str, Any]) -> bool:
    return principal.is_admin or principal.user_id in _managers(customer)


def visible(principal: Principal, customer: dict[str, Any] | None) -> dict[str, Any]:
    """The customer if the principal may see it; otherwise 404, exactly as if it did not exist."""
    if customer is None or not can_see(principal, customer):
        raise NotFound("customer not found")
    return customer


def customer_item(principal: Principal, customer_id: str, *, consistent: bool = False) -> dict[str, Any]:
    """The stored customer if the principal may see it, else 404."""
    return visible(
        principal, customer_store.get_customer(principal.organization_id, customer_id, consistent=consistent)
    )


def require_author_or_admin(principal: Principal, created_by: str, what: str) -> None:
    """Only who made something (``created_by``: their principal id) or an admin changes it."""
    if not principal.is_admin and created_by != principal.principal_id:
        raise Forbidden(f"only who saved this {what} or an administrator can change it")
