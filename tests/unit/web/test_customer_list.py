"""The customers list's URL: parsed into the list service's filter, written back into links."""

from urllib.parse import parse_qs, urlsplit

import pytest

from relance.errors import Invalid
from relance.web import customer_list

COLUMNS = customer_list.columns_of([])


def parse(query: str):
    return customer_list.parse(parse_qs(query, keep_blank_values=True), COLUMNS)


def test_amounts_are_major_units_of_the_chosen_currency():
    assert parse("overdueMin=1000").filter.overdue_min == 100_000
    assert parse("overdueMin=1000&currency=JPY").filter.overdue_min == 1000
    assert parse("outstandingMax=12.5&currency=EUR").filter.outstanding_max == 1250


@pytest.mark.parametrize(
    ("query", "field"),
    [("overdueMin=lots", "overdueMin"), ("overdueMin=1.234", "overdueMin"), ("delayMin=soon", "delayMin")],
)
def test_a_bad_value_is_named_by_its_parameter(query, field):
    with pytest.raises(Invalid) as refused:
        parse(query)

    assert field in refused.value.fields


def test_every_column_has_a_filter():
    state = parse(
        "q=acme&externalId=none&accountManagerId=none&dunningPlanId=wf_1&rating=D&rating=none&overdue=yes"
        "&delayMin=10&delayMax=90&reminderFrom=2026-01-01&reminderTo=2026-02-01&neverReminded=no"
        "&collection=paused&tag=retail&method=card,sepa_debit&cf.region=(empty)"
    )
    f = state.filter

    assert (f.q, f.external_id, f.account_manager_id, f.dunning_plan_id) == ("acme", "none", "none", "wf_1")
    assert f.rating == ["D", "none"] and f.overdue is True and f.never_reminded is False
    assert (f.average_payment_delay_min, f.average_payment_delay_max) == (10, 90)
    assert str(f.last_reminder_from) == "2026-01-01" and str(f.last_reminder_to) == "2026-02-01"
    assert f.collection_status == "paused" and f.tags == ["retail"] and f.payment_methods == ["card", "sepa_debit"]
    assert f.custom_fields == {"region": ""}


def test_links_keep_the_state_and_a_new_sort_starts_at_the_first_page():
    state = parse("rating=D&overdueMin=1000&sort=-overdue&cols=name,overdue&cursor=abc")

    link = state.url(sort="name")
    query = parse_qs(urlsplit(link).query)

    assert query["rating"] == ["D"] and query["overdueMin"] == ["1000"] and "sort" not in query
    assert query["cols"] == ["name,overdue"] and "cursor" not in query
    assert "cursor=xyz" in state.url(cursor="xyz")


def test_unknown_columns_are_dropped_and_none_means_the_defaults():
    assert parse("cols=name,bogus,rating").columns == ["name", "rating"]
    assert parse("").columns == list(customer_list.DEFAULT_COLUMNS)


def test_a_column_moves_up_and_down_within_bounds():
    assert customer_list.moved(["a", "b", "c"], "b", -1) == ["b", "a", "c"]
    assert customer_list.moved(["a", "b", "c"], "c", 1) == ["a", "b", "c"]


def test_a_saved_views_filter_comes_back_as_the_same_url_parameters():
    state = parse("rating=D&overdueMin=1000.50&collection=active&method=card&cf.region=(empty)&neverReminded=yes")

    again = parse("&".join(f"{k}={v}" for k, values in customer_list.view_params(state.filter).items() for v in values))

    assert again.filter == state.filter
