"""Saved views of the customer list: whose they are, who sees and changes them (services.views on the table)."""

from __future__ import annotations

import pytest

from relance.errors import Forbidden, Invalid, NotFound
from relance.services import views
from relance.services.views import Column, ViewFields
from relance.storage import views as store
from tests.integration.services.conftest import account_manager

OVERDUE = ViewFields(name="Overdue first", sort="-overdue", columns=[Column(key="name"), Column(key="overdue")])


def test_a_saved_view_is_its_owners_and_private(organization, manager):
    view = views.create_view(manager, OVERDUE)

    assert (view.owner, view.shared, view.mine) == (manager.principal_id, False, True)
    stored = store.get_view(organization.id, view.id)
    assert stored is not None and stored["owner"] == manager.principal_id and "mine" not in stored
    assert [v.id for v in views.list_views(manager)] == [view.id]


def test_another_persons_private_view_is_not_found_even_for_an_admin(organization, admin, manager):
    view = views.create_view(manager, OVERDUE)
    colleague = account_manager(organization, "usr_colleague")

    for other in (colleague, admin):
        assert views.list_views(other) == []
        with pytest.raises(NotFound):
            views.get_view(other, view.id)


def test_only_an_admin_shares_a_view(organization, admin, manager):
    with pytest.raises(Forbidden) as refused:
        views.create_view(manager, OVERDUE.model_copy(update={"shared": True}))

    assert refused.value.fields == {"shared": "only an administrator can share a view"}
    assert store.list_views(organization.id) == []
    shared = views.create_view(admin, OVERDUE.model_copy(update={"shared": True}))
    assert [(v.id, v.mine) for v in views.list_views(manager)] == [(shared.id, False)]


def test_a_shared_view_is_changed_by_its_owner_or_an_admin_only(organization, admin, manager):
    owner = account_manager(organization, "usr_owner")
    view = views.create_view(owner, OVERDUE)
    store.put_view(organization.id, {**store.get_view(organization.id, view.id), "shared": True})

    with pytest.raises(Forbidden):
        views.delete_view(manager, view.id)
    renamed = views.replace_view(admin, view.id, OVERDUE.model_copy(update={"name": "Chase today", "shared": True}))

    assert (renamed.name, renamed.owner) == ("Chase today", owner.principal_id)
    views.delete_view(owner, view.id)
    assert store.get_view(organization.id, view.id) is None


def test_an_admin_replacing_a_view_saved_before_owners_takes_it_over(organization, admin, manager):
    view = views.create_view(admin, OVERDUE)
    ownerless = {k: v for k, v in store.get_view(organization.id, view.id).items() if k != "owner"}
    store.put_view(organization.id, ownerless)
    assert [(v.shared, v.mine) for v in views.list_views(manager)] == [(True, False)]

    taken = views.replace_view(admin, view.id, OVERDUE.model_copy(update={"shared": False}))

    assert (taken.owner, taken.shared, taken.mine) == (admin.principal_id, False, True)
    assert views.list_views(manager) == []


def test_a_view_sorted_on_an_unknown_column_is_refused_and_not_stored(organization, manager):
    with pytest.raises(Invalid):
        views.create_view(manager, OVERDUE.model_copy(update={"sort": "shoe_size"}))

    assert store.list_views(organization.id) == []
