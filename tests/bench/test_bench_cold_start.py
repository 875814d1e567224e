"""Cold imports of the HTTP functions' handlers beside the floor, measured side by side in one run.

The floor is what any such handler imports before a line of Relance: boto3, pydantic, jinja2 and
Powertools' resolver, Logger, Tracer and Metrics. Each figure is the median of ROUNDS fresh
interpreters, the imports taking turns round by round; the ratio is of CPU seconds (the process's
user and system time), which a machine busy with other work changes far less than the wall clock,
also printed. Lambda's environment is set (LAMBDA_TASK_ROOT: Powertools traces as in AWS) and no
bytecode is written, so Relance's code is compiled at each import as in Lambda; the libraries load
from the bytecode pip wrote when it installed them, which `sam build`'s layer does not ship (in
Lambda every figure is larger: docs/architecture.md, "Cold starts"). Figures, never pass/fail:
tests/unit/test_cold_start_imports.py holds the import graph.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.conftest import FIGURES
from tests.conftest import ROOT

ROUNDS = 9
FLOOR = (
    "import boto3, pydantic, jinja2\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
)
HANDLERS = {"API": "api", "portal": "portal", "web app": "web", "authorizer": "authorizer"}
FIRST_REQUESTS = {
    "API + GET /v1/customers' router": "/v1/customers",
    "API + GET /v1/analytics/dso's router": "/v1/analytics/dso",
}
"""The API imports a router on the first request to its paths (relance.api.routers): a cold start serving a
request imports the handler, then that router: the customers' (the screen most used) and analytics' (the
heaviest)."""


def _seconds(code: str, folder: Path) -> tuple[float, float]:
    """CPU and wall seconds of a fresh interpreter running ``code`` in ``folder``."""
    environment = {
        **{name: value for name, value in os.environ.items() if name != "POWERTOOLS_TRACE_DISABLED"},
        "LAMBDA_TASK_ROOT": str(folder),
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=folder, env=environment, check=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def cold_imports() -> dict[str, tuple[float, float]]:
    """Median CPU and wall seconds of each import: the floor, then each handler from its code folder."""
    imports = {"floor": (FLOOR, ROOT / "functions" / "api")}
    imports |= {name: ("import app", ROOT / "functions" / folder) for name, folder in HANDLERS.items()}
    imports |= {
        name: (f"import app\napp.ROUTERS.include_for(app.app, {path!r})", ROOT / "functions" / "api")
        for name, path in FIRST_REQUESTS.items()
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in imports}
    for _ in range(ROUNDS):
        for name, (code, folder) in imports.items():
            runs[name].append(_seconds(code, folder))
    return {
        name: (statistics.median(cpu for cpu, _ in times), statistics.median(wall for _, wall in times))
        for name, times in runs.items()
    }


def test_cold_imports_beside_the_floor(benchmark):
    medians = benchmark.pedantic(cold_imports, rounds=1, iterations=1)

    floor, floor_wall = medians.pop("floor")
    FIGURES["cold import: floor (boto3, pydantic, jinja2, Powertools resolver, Logger, Tracer, Metrics)"] = (
        f"{floor:.2f} s CPU, {floor_wall:.2f} s wall (medians of {ROUNDS})"
    )
    for name, (cpu, wall) in medians.items():
        FIGURES[f"cold import: {name} function ÷ floor"] = f"{cpu / floor:.1f}× ({cpu:.2f} s CPU, {wall:.2f} s wall)"
    assert set(medians) == set(HANDLERS) | set(FIRST_REQUESTS)
