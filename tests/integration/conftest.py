"""Integration fixtures: the local runtime, on template.yaml or on the fixture stack.

The runtime owns process-wide state (environment, clock, botocore hooks), so one runs at
a time: each is module-scoped and stopped before the next module starts its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from local.demo import seed
from local.runtime import LocalRuntime
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """template.yaml on moto with one empty organization (as ``--no-demo``), on a free port."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None).start(seed=lambda: seed(demo=False)) as started:
        yield started


@pytest.fixture(scope="module")
def fixture_stack() -> Iterator[LocalRuntime]:
    """The fixture stack (tests/fixtures/runtime) with a clock 3600 times faster."""
    stack = LocalRuntime(
        FIXTURES / "runtime" / "template.yaml", port=0, smtp_port=0, time_scale=3600, session_file=None
    )
    with stack.start() as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> requests.Session:
    """An HTTP session that calls the local API as the demo organization's admin key."""
    session = requests.Session()
    session.headers["X-Api-Key"] = runtime.session["apiKey"]
    return session


DAY = 86400


@contextmanager
def mailing_runtime(time_scale: float = DAY) -> Iterator[LocalRuntime]:
    """template.yaml on a fast clock with a verified sender, so dunning sends mail; ``api_session`` is the admin's."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, time_scale=time_scale).start(
        seed=lambda: seed(demo=False)
    ) as started:
        session = requests.Session()
        session.headers["X-Api-Key"] = started.session["apiKey"]
        settings = session.get(f"{started.base_url}/v1/organization").json()["settings"]
        session.put(
            f"{started.base_url}/v1/organization/settings",
            json={**settings, "senderEmail": "ar@relance.example", "senderName": "Relance AR"},
        ).raise_for_status()
        # As on AWS, setting the sender started its verification; the local stand-in clicks the link.
        requests.post(f"{started.base_url}/dev/ses/verify", json={"email": "ar@relance.example"}).raise_for_status()
        started.api_session = session  # type: ignore[attr-defined]
        yield started


@pytest.fixture(scope="module")
def fast() -> Iterator[LocalRuntime]:
    """template.yaml on a clock a day per second, with a verified sender (dunning sends mail)."""
    with mailing_runtime() as started:
        yield started


def outbox(runtime, to: str) -> list[dict]:
    return [m for m in requests.get(f"{runtime.base_url}/dev/outbox").json() if to in m["to"]]
