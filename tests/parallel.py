"""Run the test suite as one pytest process per test file, two at a time: ``python -m tests.parallel``.

Each integration module already owns its local runtime (environment, clock, moto backends, threads);
a process per file makes that ownership total, so no module can meet another's leftovers, whatever
the order, and files run side by side: two at a time (``-j``, or ``TEST_JOBS``), one per core
(three were no faster on two cores, and slowed the served app's stop past its limits).
A directory's files are found in its subdirectories too (``tests/integration/services``).
``tests/unit`` is one process (it is quick). The end-to-end files each serve the app from this
checkout (its ``.local`` session file): they run one at a time, alongside the other files. A file
that never names hypothesis, schemathesis or another plugin of ``PLUGINS`` runs without it. A
failing file's whole output is printed when it ends; the exit status is 1 if any file failed.

    python -m tests.parallel [-j 2] [PATH ...]    (default: tests/unit tests/integration tests/e2e tests/fuzz)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ("tests/unit", "tests/integration", "tests/e2e", "tests/fuzz")
ONE_AT_A_TIME = ("tests/e2e",)
"""Directories whose files share something outside the process (the served app's session file)."""
WHOLE = ("tests/unit",)
"""Directories run as one process."""


@dataclass
class Job:
    target: str
    group: str | None = None
    seconds: float = 0.0
    output: str = ""
    status: int = 0


@dataclass
class Queue:
    pending: list[Job]
    busy_groups: set[str] = field(default_factory=set)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def take(self) -> Job | None:
        """The first pending job whose group is not running, waiting while every one is blocked."""
        with self.lock:
            while self.pending:
                for job in self.pending:
                    if job.group is None or job.group not in self.busy_groups:
                        self.pending.remove(job)
                        if job.group:
                            self.busy_groups.add(job.group)
                        return job
                self.lock.wait()
            return None

    def done(self, job: Job) -> None:
        with self.lock:
            if job.group:
                self.busy_groups.discard(job.group)
            self.lock.notify_all()


FIRST = (
    "tests/e2e/test_serve.py",
    "tests/unit",
    "tests/integration/test_dunning_cycle.py",
    "tests/integration/test_sync_quickbooks.py",
    "tests/fuzz",
)
"""The longest jobs besides the end-to-end files (close to a minute each, test_serve.py nearly three): started
first, so the last minutes are not one long file running alone."""


def jobs_of(paths: list[str]) -> list[Job]:
    """A job per test file (or per whole directory in ``WHOLE``): the one-at-a-time files (the longest)
    spread through the queue from its start, ``FIRST`` next, then the largest files first (a proxy
    for the longest)."""
    jobs: list[Job] = []
    for path in paths:
        relative = Path(path).as_posix().rstrip("/")
        if relative in WHOLE or Path(ROOT, relative).is_file():
            jobs.append(Job(relative))
            continue
        files = sorted(Path(ROOT, relative).rglob("test_*.py"), key=lambda f: -f.stat().st_size)
        group = relative if relative in ONE_AT_A_TIME else None
        jobs += [Job(f.relative_to(ROOT).as_posix(), group) for f in files]

    def first(job: Job) -> int:
        return next((n for n, prefix in enumerate(FIRST) if job.target.startswith(prefix)), len(FIRST))

    serial = sorted((j for j in jobs if j.group), key=first)  # stable: the rest keep their size order
    others = sorted((j for j in jobs if not j.group), key=first)
    ordered: list[Job] = []
    step = max(1, len(others) // (len(serial) + 1)) if serial else 0
    for index, job in enumerate(others):
        if serial and index % step == 0:
            ordered.append(serial.pop(0))
        ordered.append(job)
    return ordered + serial


PLUGINS = {
    "hypothesispytest": "hypothesis",
    "schemathesis": "schemathesis",
    "benchmark": "benchmark",
    "anyio": "anyio",
    "xdist": "xdist",
    "xdist.looponfail": "xdist",
}
"""Installed pytest plugins that only some files use (plugin → the word that shows a file uses it). A job
whose files and conftests never name one runs without it: hypothesis's and schemathesis's plugins
alone took a second to load in every process."""


def without_unused_plugins(target: str) -> list[str]:
    """``-p no:<plugin>`` for each plugin of ``PLUGINS`` that the target's files, and the conftests
    above them, never name."""
    path = ROOT / target
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    files += [folder / "conftest.py" for folder in path.parents if folder.is_relative_to(ROOT / "tests")]
    text = "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())
    return [option for plugin, word in PLUGINS.items() if word not in text for option in ("-p", f"no:{plugin}")]


def run(job: Job) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *without_unused_plugins(job.target), job.target],
        check=False,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    job.seconds, job.output, job.status = time.monotonic() - started, done.stdout, done.returncode


def summary_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1].strip("= ") if lines else "no output"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-j", "--jobs", type=int, default=int(os.environ.get("TEST_JOBS", "2")), help="files at a time (default 2)"
    )
    parser.add_argument("paths", nargs="*", default=list(DEFAULT))
    options = parser.parse_args(argv)
    queue = Queue(jobs_of(options.paths))
    total = len(queue.pending)
    finished: list[Job] = []
    printing = threading.Lock()
    began = time.monotonic()

    def worker() -> None:
        while (job := queue.take()) is not None:
            try:
                run(job)
            finally:
                queue.done(job)
            with printing:
                finished.append(job)
                verdict = "ok  " if job.status in (0, 5) else "FAIL"
                ended = summary_line(job.output)
                print(f"[{len(finished)}/{total}] {verdict} {job.target} ({job.seconds:.0f} s): {ended}")
                if job.status not in (0, 5):  # 5: no test collected (not a failure)
                    print(job.output, flush=True)
                sys.stdout.flush()

    threads = [threading.Thread(target=worker, name=f"tests-{n}") for n in range(options.jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [job for job in finished if job.status not in (0, 5)]
    elapsed = time.monotonic() - began
    busiest = sorted(finished, key=lambda j: -j.seconds)[:5]
    longest = ", ".join(f"{j.target} {j.seconds:.0f} s" for j in busiest)
    print(f"\n{total} files in {elapsed / 60:.1f} min; the longest: {longest}")
    if failed:
        print("FAILED: " + " ".join(job.target for job in failed))
        return 1
    print("every file passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
