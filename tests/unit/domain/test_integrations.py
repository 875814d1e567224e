"""The pure rules of sync: what changed, which change a synced record refuses, counts added up."""

from relance.domain.integrations import KindCounts, add_counts, changed, label_of, refused_change

SYNCED = {"syncedFrom": "stripe", "syncedFields": ["externalId", "name"], "name": "Acme", "tags": []}


def test_only_what_differs_from_the_stored_record_is_a_change():
    assert changed({"name": "Acme", "currency": "EUR"}, {"name": "Acme", "currency": "USD"}) == {"currency": "USD"}
    assert changed({"name": "Acme"}, {"name": "Acme"}) == {}


def test_a_synced_field_may_not_change_but_may_be_sent_unchanged():
    assert refused_change(SYNCED, {"name": "Renamed"}) == "name"
    assert refused_change(SYNCED, {"name": "Acme", "tags": ["vip"]}) is None


def test_a_field_the_source_did_not_give_stays_editable_and_an_unsynced_record_refuses_nothing():
    assert refused_change(SYNCED, {"currency": "USD"}) is None
    assert refused_change({"name": "Acme", "syncedFields": ["name"]}, {"name": "Renamed"}) is None


def test_counts_add_up_kind_by_kind():
    total = add_counts({"invoice": KindCounts(created=2)}, {"invoice": KindCounts(created=1, errors=1)})

    assert total == {"invoice": KindCounts(created=3, errors=1)}
    assert add_counts({}, {"customer": KindCounts(unchanged=4)}) == {"customer": KindCounts(unchanged=4)}


def test_a_source_is_named_as_the_team_knows_it():
    assert label_of("quickbooks") == "QuickBooks Online"
    assert label_of("other") == "other"
