"""What the web app's screens read, in as few DynamoDB requests as the data model allows.

Each screen is one or two services of its own, so the web layer never reaches into storage:
``list_page`` (the customers list) and ``customer_page`` (one customer with everything about it).
Names of people, workflows and views come from the organization's *directory*: one Query, since
their sort keys are neighbours (``storage.directory``).
"""

from __future__ import annotations

from dataclasses import dataclass

from relance.domain.custom_fields import CustomFieldDefinition
from relance.domain.customers import Customer
from relance.domain.organizations import Principal
from relance.domain.users import User
from relance.domain.workflows import Workflow
from relance.services import custom_fields
from relance.services.customers import CustomerFilter, check_sort, matching_customers, sort_key
from relance.services.pagination import paginate
from relance.services.views import View
from relance.storage import directory as directory_store
from relance.storage.table import plain


@dataclass(frozen=True)
class Directory:
    users: dict[str, User]
    workflows: dict[str, Workflow]
    views: list[View]
    custom_fields: list[CustomFieldDefinition]

    def user_name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.name if user else "(removed user)"

    def workflow_name(self, workflow_id: str | None) -> str:
        if not workflow_id:
            return ""
        workflow = self.workflows.get(workflow_id)
        return workflow.name if workflow else "(removed workflow)"

    @property
    def managers(self) -> list[User]:
        return sorted(self.users.values(), key=lambda u: u.name.lower())


def directory(principal: Principal) -> Directory:
    """The organization's users, workflows and saved views (one Query) and custom fields (one Query)."""
    found = directory_store.directory(principal.organization_id)
    users = [User.model_validate(plain(i)) for i in found["USER"]]
    workflows = [Workflow.model_validate(plain(i)) for i in found["WF"]]
    views = sorted((View.model_validate(plain(i)) for i in found["VIEW"]), key=lambda v: v.name.lower())
    return Directory(
        users={u.id: u.model_copy(update={"slack_webhook_url": None}) for u in users},
        workflows={w.id: w for w in sorted(workflows, key=lambda w: w.name.lower())},
        views=views,
        custom_fields=custom_fields.list_definitions(principal.organization_id),
    )


@dataclass(frozen=True)
class ListPage:
    rows: list[Customer]
    next_cursor: str | None
    matching: int
    directory: Directory


def list_page(
    principal: Principal,
    filters: CustomerFilter,
    sort: str,
    limit: int,
    cursor: str | None,
    known: Directory | None = None,
) -> ListPage:
    """A page of the customers list: the customers Query (the list projection; filtered and
    sorted in the function, as ``GET /v1/customers``) and the directory."""
    column, descending = check_sort(sort)
    matching = matching_customers(principal, filters)
    rows, next_cursor = paginate(
        matching, sort_key(column, descending), limit=limit, cursor=cursor, descending=descending
    )
    return ListPage(rows, next_cursor, len(matching), known or directory(principal))
