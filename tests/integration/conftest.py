"""Integration fixtures: the local runtime, on template.yaml or on the fixture stack.

The runtime owns process-wide state (environment, clock, botocore hooks), so one runs at
a time: each is module-scoped and stopped before the next module starts its own. Each test
that uses the dunning runtime (``fast``) owns its executions: they are stopped after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from local.demo import seed
from local.runtime import LocalRuntime
from relance import aws
from tests.conftest import FIXTURES
from tests.integration.helpers import TIMEZONE, clock_start, ok


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    """template.yaml on moto with one empty organization (as ``--no-demo``), on a free port."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, clock_start=clock_start()).start(
        seed=lambda: seed(demo=False)
    ) as started:
        yield started


@pytest.fixture(scope="module")
def fixture_stack() -> Iterator[LocalRuntime]:
    """The fixture stack (tests/fixtures/runtime) with a clock 3600 times faster."""
    stack = LocalRuntime(
        FIXTURES / "runtime" / "template.yaml",
        port=0,
        smtp_port=0,
        time_scale=3600,
        clock_start=clock_start(),
        session_file=None,
    )
    with stack.start() as started:
        yield started


@pytest.fixture
def api(runtime: LocalRuntime) -> requests.Session:
    """An HTTP session that calls the local API as the demo organization's admin key."""
    session = requests.Session()
    session.headers["X-Api-Key"] = runtime.session["apiKey"]
    return session


@pytest.fixture(scope="module")
def demo() -> Iterator[LocalRuntime]:
    """template.yaml with the demo organization (``make run``'s data), the clock held still; its Stripe
    account's first run, queued while seeding, done."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, clock_start=clock_start()).start(
        seed=lambda: seed(demo=True)
    ) as started:
        started.settle()
        yield started


@contextmanager
def mailing_runtime(time_scale: float = 0) -> Iterator[LocalRuntime]:
    """template.yaml with a verified sender, so dunning sends mail; ``api_session`` is the admin's.

    Time moves only when the test lets it pass (``helpers.jump_until``), unless ``time_scale``
    makes it flow; the organization's time zone is ``helpers.TIMEZONE``."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, time_scale=time_scale, clock_start=clock_start()).start(
        seed=lambda: seed(demo=False)
    ) as started:
        session = requests.Session()
        session.headers["X-Api-Key"] = started.session["apiKey"]
        settings = ok(session.get(f"{started.base_url}/v1/organization"))["settings"]
        ok(
            session.put(
                f"{started.base_url}/v1/organization/settings",
                json={
                    **settings,
                    "senderEmail": "ar@relance.example",
                    "senderName": "Relance AR",
                    "timezone": TIMEZONE,
                },
            )
        )
        # As on AWS, setting the sender started its verification; the local stand-in clicks the link.
        ok(requests.post(f"{started.base_url}/dev/ses/verify", json={"email": "ar@relance.example"}))
        started.api_session = session  # type: ignore[attr-defined]
        yield started


@pytest.fixture(scope="module")
def fast() -> Iterator[LocalRuntime]:
    """template.yaml whose dunning sends mail; time passes when the test says so."""
    with mailing_runtime() as started:
        yield started


@pytest.fixture(autouse=True)
def _own_executions(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on the dunning runtime leaves no execution running into the next test."""
    yield
    if "fast" in request.fixturenames:
        stop_executions(request.getfixturevalue("fast"))


def stop_executions(runtime: LocalRuntime) -> None:
    sfn = aws.client("stepfunctions")
    arn = runtime.template.arn_of("DunningStateMachine")
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn, statusFilter="RUNNING"):
        for execution in page["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"], cause="the test ended")
    runtime.settle()
