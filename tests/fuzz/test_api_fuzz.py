"""Property-based fuzz of the whole API from its committed OpenAPI document (`make fuzz`).

Schemathesis generates requests for every operation of ``functions/api/openapi.json`` (valid and
invalid bodies, parameters, path ids) and sends them, as an admin API key, to a local runtime of
``template.yaml``. Every response must be below 500 and conform to the document: a status code it
lists, the content type and the schema it gives for that status, its headers. Seeded (derandomized:
the same requests on every run, so it cannot pass once and fail the next) and bounded: ``FUZZ_EXAMPLES``
per operation and mode, 10 unless the environment says otherwise, as ``make test`` runs it (every
operation, both modes, in under a minute: 30 took two to three of the suite's minutes); ``make fuzz``
is the deep run, 100 each (about five minutes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.demo import seed
from local.runtime import LocalRuntime
from tests.conftest import ROOT
from tests.integration.helpers import clock_start

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[LocalRuntime]:
    """template.yaml on moto with one empty organization, whose admin key the fuzz uses."""
    with LocalRuntime(port=0, smtp_port=0, session_file=None, clock_start=clock_start()).start(
        seed=lambda: seed(demo=False)
    ) as started:
        yield started


SCHEMA = schemathesis.openapi.from_path(ROOT / "functions" / "api" / "openapi.json")
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_answers_below_500_as_documented(
    label: str, mode: GenerationMode, fuzzed: LocalRuntime
) -> None:
    headers = {"X-Api-Key": fuzzed.session["apiKey"]}

    @given(case=OPERATIONS[label].as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=fuzzed.base_url, headers=headers, checks=CHECKS, timeout=30)

    answers_as_documented()
