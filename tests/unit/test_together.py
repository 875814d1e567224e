"""``relance.concurrency.together``: independent reads made at the same time, results in order, every read
finished before it returns, the first error in order raised."""

from __future__ import annotations

import threading

import pytest

from relance.concurrency import together


def test_results_come_back_in_the_order_asked():
    assert together(lambda: 1, lambda: "two") == (1, "two")
    assert together(lambda: 1, lambda: 2, lambda: 3, lambda: 4) == (1, 2, 3, 4)


def test_the_reads_run_at_the_same_time():
    everyone = threading.Barrier(3, timeout=10)  # broken (an error) unless all three wait at once

    def read(n: int):
        return lambda: (everyone.wait(), n)[1]

    assert together(read(1), read(2), read(3)) == (1, 2, 3)


def test_the_first_error_in_order_is_raised_once_every_read_is_done():
    finished: list[str] = []
    slow_done = threading.Event()

    def slow() -> str:
        slow_done.wait(timeout=0.2)
        finished.append("slow")
        return "slow"

    def fails(what: str):
        def read() -> None:
            raise LookupError(what)

        return read

    with pytest.raises(LookupError, match="first"):
        together(fails("first"), slow, fails("third"))
    assert finished == ["slow"]  # not left running behind the caller
    with pytest.raises(LookupError, match="second"):
        together(lambda: 1, fails("second"), fails("third"))
