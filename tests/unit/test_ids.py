import hashlib
from datetime import UTC, datetime, timedelta

from relance import clock
from relance.ids import is_id, new_id, stable_id


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


def test_stable_id_is_the_same_for_the_same_parts():
    assert stable_id("act", "cus_1", 2, 0, "step-1") == stable_id("act", "cus_1", 2, 0, "step-1")


def test_stable_id_differs_when_a_part_differs():
    assert stable_id("act", "cus_1", 2, 0, "step-1") != stable_id("act", "cus_1", 3, 0, "step-1")
    assert stable_id("evt", "dispute", "inv_1") != stable_id("evt", "resolved", "inv_1")
    assert stable_id("evt", "x") != stable_id("msg", "x")


def test_stable_id_is_recognised_as_an_id_of_its_prefix():
    assert is_id(stable_id("pay", "cs_test_1"), "pay")


def _old_recipe(prefix: str, text: str) -> str:
    """How stable ids were written at each site before ``stable_id``: ids already stored must not change."""
    return prefix + "_" + hashlib.sha256(text.encode()).hexdigest()[:26]


def test_stable_id_keeps_the_format_of_the_ids_already_stored():
    now = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
    today = now.date()
    ids = ["inv_1", "inv_2"]

    assert stable_id("act", "cus_1", 2, 0, "step-1") == _old_recipe("act", f"cus_1:{2}:{0}:step-1")
    assert stable_id("rpl", "bucket/inbound/abc") == _old_recipe("rpl", "bucket/inbound/abc")
    assert stable_id("act", "reply-task", "rpl_1") == _old_recipe("act", "reply-task:rpl_1")
    assert stable_id("ntf", "bounce", "con_1", "usr_1") == _old_recipe("ntf", "bounce:con_1:usr_1")
    assert stable_id("pay", "cs_test_1") == _old_recipe("pay", "cs_test_1")
    assert stable_id("evt", "portal", "cus_1", today) == _old_recipe("evt", f"portal:cus_1:{today}")
    assert stable_id("msg", "cus_1", f"{now:%Y%m%d%H%M}", "Hello: see you") == _old_recipe(
        "msg", f"cus_1:{now:%Y%m%d%H%M}:Hello: see you"
    )
    assert stable_id("evt", "dispute", "inv_1", now) == _old_recipe("evt", f"dispute:inv_1:{now}")
    assert stable_id("evt", "promise", ",".join(ids), now) == _old_recipe("evt", f"promise:{','.join(ids)}:{now}")
    assert stable_id("evt", "broken", ",".join(ids), today) == _old_recipe("evt", f"broken:{','.join(ids)}:{today}")


def test_stable_id_of_a_known_action_is_pinned():
    assert stable_id("act", "cus_1", 2, 0, "step-1") == "act_c48ee6cb52b6dc7c1680fce02f"
