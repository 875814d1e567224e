from datetime import timedelta

from relance import clock
from relance.ids import is_id, new_id


def test_new_id_has_prefix_and_is_recognised():
    value = new_id("org")

    assert value.startswith("org_")
    assert is_id(value, "org")
    assert not is_id(value, "cus")
    assert not is_id("org_../../etc", "org")


def test_ids_sort_by_creation_time_on_the_relance_clock():
    first = new_id("inv")
    clock.advance(timedelta(milliseconds=5))
    try:
        second = new_id("inv")
    finally:
        clock.reset()

    assert first < second
