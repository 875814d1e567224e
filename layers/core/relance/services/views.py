"""Saved views of the customer list: a filter, a sort, and which columns show in what order.

A view is its owner's (``owner``: the principal who saved it, a user's ``user:<id>`` or an API
key's ``apikey:<id>``) and private unless ``shared``:

- anyone saves a private view; only an admin shares one (``shared: true`` from anyone else is a
  403 naming ``shared``);
- a caller sees their own views and the shared ones, each marked ``mine`` and ``shared``; another
  person's private view is, to everyone (admins too), a 404 exactly as if it did not exist;
- a view is replaced or deleted by its owner, or, when shared, by an admin (403 for anyone else);
- a view stored before views had owners (no ``owner``) is owned by no one and shared: everyone
  keeps seeing it, admins manage it, and an admin who replaces it takes it over (it becomes theirs).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from relance import clock
from relance.domain.base import Record, RelanceModel
from relance.domain.organizations import Principal
from relance.errors import Forbidden, NotFound
from relance.ids import new_id
from relance.services.customers import CustomerFilter, check_sort
from relance.storage import views as store


class Column(RelanceModel):
    key: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    visible: bool = True


class ViewFields(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    filter: CustomerFilter = Field(default_factory=CustomerFilter)
    sort: str = "name"
    columns: list[Column] = Field(default_factory=list, max_length=60)
    shared: bool = Field(
        default=False, description="Seen by the whole team (only an admin shares a view); otherwise only its owner's."
    )


class View(Record):
    id: str
    name: str
    filter: CustomerFilter
    sort: str
    columns: list[Column]
    owner: str | None = Field(
        default=None,
        description="The principal the view belongs to (user:<id> or apikey:<id>); none for a view saved "
        "before views had owners, which is shared and managed by admins.",
    )
    shared: bool = False
    mine: bool = Field(default=False, description="Whether the view is the caller's own (never stored).")
    created_by: str
    created_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _ownerless_is_shared(cls, data: Any) -> Any:
        """A view stored before views had owners stays what it was: the organization's, seen by everyone."""
        if isinstance(data, dict) and not data.get("owner"):
            return {**data, "owner": None, "shared": True}
        return data


def _mine(principal: Principal, view: View) -> bool:
    return view.owner is not None and view.owner == principal.principal_id


def visible_views(principal: Principal, items: list[dict[str, Any]]) -> list[View]:
    """The stored views ``items`` the principal sees (their own and the shared ones), marked, by name."""
    found = (View.model_validate(item) for item in items)
    return sorted(
        (v.model_copy(update={"mine": _mine(principal, v)}) for v in found if v.shared or _mine(principal, v)),
        key=lambda v: v.name.lower(),
    )


def can_change(principal: Principal, view: View) -> bool:
    """Its owner, or an admin for a shared view, replaces or deletes a view."""
    return _mine(principal, view) or (principal.is_admin and view.shared)


def list_views(principal: Principal) -> list[View]:
    """The caller's own views and the shared ones."""
    return visible_views(principal, store.list_views(principal.organization_id))


def _check_sharing(principal: Principal, fields: ViewFields, before: View | None = None) -> None:
    if fields.shared and not principal.is_admin and not (before is not None and before.shared):
        raise Forbidden("only an administrator can share a view", {"shared": "only an administrator can share a view"})


def _save(principal: Principal, view: View) -> View:
    check_sort(view.sort)
    store.put_view(principal.organization_id, view.model_dump(mode="json", by_alias=True, exclude={"mine"}))
    return view.model_copy(update={"mine": _mine(principal, view)})


def create_view(principal: Principal, fields: ViewFields) -> View:
    _check_sharing(principal, fields)
    view = View(
        id=new_id("vw"),
        owner=principal.principal_id,
        created_by=principal.principal_id,
        created_at=clock.now(),
        **fields.model_dump(),
    )
    return _save(principal, view)


def get_view(principal: Principal, view_id: str) -> View:
    """The view if the caller sees it; another person's private view is a 404, as if absent."""
    item = store.get_view(principal.organization_id, view_id)
    seen = visible_views(principal, [item]) if item is not None else []
    if not seen:
        raise NotFound("view not found")
    return seen[0]


def _require_change(principal: Principal, view: View) -> None:
    if not can_change(principal, view):
        raise Forbidden("only who saved this view, or an administrator for a shared view, can change it")


def replace_view(principal: Principal, view_id: str, fields: ViewFields) -> View:
    """Replaces every field, ``shared`` included; an admin replacing an ownerless view takes it over."""
    before = get_view(principal, view_id)
    _require_change(principal, before)
    _check_sharing(principal, fields, before)
    owner = before.owner or principal.principal_id
    return _save(principal, View.model_validate({**before.model_dump(), **fields.model_dump(), "owner": owner}))


def delete_view(principal: Principal, view_id: str) -> None:
    _require_change(principal, get_view(principal, view_id))
    store.delete_view(principal.organization_id, view_id)
