"""Who sees a customer, who may be mentioned on it, who changes a saved view: the pure rules."""

import pytest

from relance.domain.organizations import Principal
from relance.errors import Forbidden, Invalid
from relance.services.access import person_can_see, require_author_or_admin
from relance.services.notes import check_mentions

CUSTOMER = {"id": "cus_1", "accountManagerIds": ["usr_ann"]}
ADMIN = {"id": "usr_ada", "role": "admin"}
ANN = {"id": "usr_ann", "role": "account_manager"}
BOB = {"id": "usr_bob", "role": "account_manager"}


def test_a_person_sees_a_customer_as_an_admin_or_as_one_of_its_account_managers():
    assert person_can_see(ADMIN, CUSTOMER)
    assert person_can_see(ANN, CUSTOMER)
    assert not person_can_see(BOB, CUSTOMER)
    assert not person_can_see(BOB, {"id": "cus_2"})  # nobody assigned: admins only


def test_people_who_see_the_customer_can_be_mentioned():
    check_mentions(["usr_ann", "usr_ada"], {"usr_ann": ANN, "usr_ada": ADMIN}, CUSTOMER)


def test_a_mention_of_someone_who_cannot_see_the_customer_is_refused_naming_body_and_them():
    with pytest.raises(Invalid) as refused:
        check_mentions(["usr_ann", "usr_bob"], {"usr_ann": ANN, "usr_bob": BOB}, CUSTOMER)

    assert refused.value.status == 422
    assert "@usr_bob" in refused.value.fields["body"] and "usr_ann" not in refused.value.fields["body"]


def test_a_mention_of_an_unknown_user_is_refused_naming_body():
    with pytest.raises(Invalid) as refused:
        check_mentions(["usr_ghost"], {"usr_ghost": None}, CUSTOMER)

    assert "@usr_ghost" in refused.value.fields["body"]


def test_a_saved_view_is_changed_by_who_saved_it_or_an_admin():
    ann = Principal(organization_id="org_1", role="account_manager", principal_id="user:usr_ann", user_id="usr_ann")
    bob = Principal(organization_id="org_1", role="account_manager", principal_id="user:usr_bob", user_id="usr_bob")
    key = Principal(organization_id="org_1", role="admin", principal_id="apikey:key_1")

    require_author_or_admin(ann, "user:usr_ann", "view")
    require_author_or_admin(key, "user:usr_ann", "view")
    with pytest.raises(Forbidden):
        require_author_or_admin(bob, "user:usr_ann", "view")
    with pytest.raises(Forbidden):
        require_author_or_admin(ann, "apikey:key_1", "view")
