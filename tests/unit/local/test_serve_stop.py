"""Ctrl-C always stops `make run`: past STOP_SECONDS, what still runs is printed and the process leaves."""

import subprocess
import sys
import time

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


WAITS_FOR_A_CTRL_C_ON_ANOTHER_THREAD = """
import signal, threading, time
from local.__main__ import wait_for

stopping = threading.Event()
signal.signal(signal.SIGINT, lambda *_: stopping.set())

def pressed_here():  # the kernel may hand a process's Ctrl-C to any of its threads
    time.sleep(0.2)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)
    time.sleep(60)

threading.Thread(target=pressed_here, daemon=True).start()
started = time.monotonic()
wait_for(stopping)
print(f"stopping after {time.monotonic() - started:.1f} s")
"""


def test_a_ctrl_c_the_kernel_gives_another_thread_still_stops_the_served_app():
    waited = subprocess.run(
        [sys.executable, "-c", WAITS_FOR_A_CTRL_C_ON_ANOTHER_THREAD],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.startswith("stopping after"), waited.stdout
    assert float(waited.stdout.split()[2]) < 5


ORPHANED = """
import os, threading, time
from local.__main__ import wait_for
parent = os.getppid()
print("waiting", flush=True)
started = time.monotonic()
wait_for(threading.Event(), parent=parent)
print(f"stopped after {time.monotonic() - started:.1f} s", flush=True)
"""
LEAVES_ITS_CHILD = f"""
import pathlib, subprocess, sys, time
printed = pathlib.Path(sys.argv[1])
child = subprocess.Popen([sys.executable, "-c", {ORPHANED!r}], stdout=printed.open("w"), stderr=subprocess.STDOUT)
while "waiting" not in printed.read_text() and child.poll() is None:
    time.sleep(0.05)
print(child.pid, flush=True)
"""


def test_a_served_app_whose_parent_was_killed_stops(tmp_path):
    """``serve --stop-with-parent`` (what the e2e tests start): its parent leaves without stopping it, as a killed
    test run does, and it stops within a second instead of living on, reparented, holding its ports."""
    printed = tmp_path / "child.out"
    parent = subprocess.run(
        [sys.executable, "-c", LEAVES_ITS_CHILD, str(printed)], capture_output=True, text=True, timeout=30, check=True
    )
    child = int(parent.stdout.split()[0])

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "stopped after" not in printed.read_text(encoding="utf-8"):
        time.sleep(0.1)

    lines = printed.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "waiting" and lines[-1].startswith("stopped after"), f"process {child}: {lines}"
    assert float(lines[-1].split()[2]) < 5
