"""Ctrl-C always stops `make run`: past STOP_SECONDS, what still runs is printed and the process leaves."""

import subprocess
import sys

from local.__main__ import STOP_SECONDS


def test_a_stop_that_takes_too_long_prints_every_thread_and_leaves():
    stuck = subprocess.run(
        [sys.executable, "-c", "from local.__main__ import _stop_anyway; _stop_anyway(); print('not reached')"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert stuck.returncode == 0
    assert f"Still stopping after {STOP_SECONDS:g} s" in stuck.stdout
    assert "Current thread" in stuck.stdout or "Thread 0x" in stuck.stdout  # faulthandler's stacks
    assert "not reached" not in stuck.stdout
    assert STOP_SECONDS < 60  # well inside the e2e tests' time limit for a stop
