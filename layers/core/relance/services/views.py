"""Saved views of the customer list: a filter, a sort, and which columns show in what order.

Views are shared by the organization: everyone lists and uses them; whoever saved one, or an
admin, replaces or deletes it (403 for anyone else).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from relance import clock
from relance.domain.base import Record, RelanceModel
from relance.domain.organizations import Principal
from relance.errors import NotFound
from relance.ids import new_id
from relance.services.access import require_author_or_admin
from relance.services.customers import CustomerFilter, check_sort
from relance.storage import keys
from relance.storage.records import delete, get, under_prefix
from relance.storage.table import table


class Column(RelanceModel):
    key: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    visible: bool = True


class ViewFields(RelanceModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    filter: CustomerFilter = Field(default_factory=CustomerFilter)
    sort: str = "name"
    columns: list[Column] = Field(default_factory=list, max_length=60)


class View(Record):
    id: str
    name: str
    filter: CustomerFilter
    sort: str
    columns: list[Column]
    created_by: str
    created_at: AwareDatetime


def list_views(principal: Principal) -> list[View]:
    """Query ``ORG#<org>``, SK begins with ``VIEW#``: the organization's shared views."""
    return [View.model_validate(i) for i in under_prefix(keys.views_prefix(principal.organization_id))]


def _save(principal: Principal, view: View) -> View:
    check_sort(view.sort)
    item = {**keys.view(principal.organization_id, view.id), **view.model_dump(mode="json", by_alias=True)}
    table().put_item(Item=item)
    return view


def create_view(principal: Principal, fields: ViewFields) -> View:
    view = View(id=new_id("vw"), created_by=principal.principal_id, created_at=clock.now(), **fields.model_dump())
    return _save(principal, view)


def get_view(principal: Principal, view_id: str) -> View:
    item = get(keys.view(principal.organization_id, view_id))
    if item is None:
        raise NotFound("view not found")
    return View.model_validate(item)


def replace_view(principal: Principal, view_id: str, fields: ViewFields) -> View:
    before = get_view(principal, view_id)
    require_author_or_admin(principal, before.created_by, "view")
    return _save(principal, View.model_validate({**before.model_dump(), **fields.model_dump()}))


def delete_view(principal: Principal, view_id: str) -> None:
    require_author_or_admin(principal, get_view(principal, view_id).created_by, "view")
    delete(keys.view(principal.organization_id, view_id))
