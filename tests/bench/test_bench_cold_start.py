"""Cold imports of the HTTP functions' handlers beside the floor, measured side by side in one run.

The floor is what any such handler imports before a line of Relance: boto3, pydantic, jinja2 and
Powertools' resolver, Logger, Tracer and Metrics. Each figure is the median of ROUNDS fresh
interpreters, the imports taking turns round by round; the ratio is of CPU seconds (the process's
user and system time), which a machine busy with other work changes far less than the wall clock,
also printed. Lambda's environment is set (LAMBDA_TASK_ROOT: Powertools traces as in AWS) and no
bytecode is written. Measured twice: from this checkout (the venv's libraries, the code folders), and
as shipped: `sam build`'s artifacts alone (each function's folder and the CoreLayer, no site-packages:
``python -S``), with the bytecode the layer's build compiles (layers/core/Makefile) — Lambda's /opt is
read-only, so whatever has none is compiled at every cold start. Figures, never pass/fail:
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
    "API + GET /v1/customers' router": ("API", "ROUTERS", "/v1/customers"),
    "API + GET /v1/analytics/dso's router": ("API", "ROUTERS", "/v1/analytics/dso"),
    "web app + GET /customers' screen": ("web app", "SCREENS", "/customers"),
    "portal + GET /portal/<token>'s page": ("portal", "VIEWS", "/portal/pt_x"),
}
"""The API, the web app and the portal import a router on the first request to its paths (relance.api.routers):
a cold start serving a request imports the handler, then that router: the customers' (the screen most used),
analytics' (the heaviest) and the portal's page (nearly every portal cold start)."""


BUILD = ROOT / ".aws-sam" / "build"
SHIPPED = {
    "API": "ApiFunction",
    "portal": "PortalFunction",
    "web app": "WebFunction",
    "authorizer": "AuthorizerFunction",
}
"""The HTTP functions' folders in `sam build`'s artifacts (make bench builds them first)."""


def _seconds(code: str, folder: Path, shipped: bool = False) -> tuple[float, float]:
    """CPU and wall seconds of a fresh interpreter running ``code`` in ``folder`` (``shipped``: with the
    built layer for its only libraries)."""
    environment = {
        **{name: value for name, value in os.environ.items() if name != "POWERTOOLS_TRACE_DISABLED"},
        "LAMBDA_TASK_ROOT": str(folder),
        "AWS_LAMBDA_FUNCTION_NAME": "cold-start",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [sys.executable, "-c", code]
    if shipped:
        environment["PYTHONPATH"] = f"{folder}{os.pathsep}{BUILD / 'CoreLayer' / 'python'}"
        command = [sys.executable, "-S", "-c", code]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, env=environment, check=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, wall


def cold_imports(shipped: bool = False) -> dict[str, tuple[float, float]]:
    """Median CPU and wall seconds of each import: the floor, then each handler from its code folder."""
    folders = {
        name: BUILD / SHIPPED[name] if shipped else ROOT / "functions" / folder for name, folder in HANDLERS.items()
    }
    imports = {"floor": (FLOOR, folders["API"])}
    imports |= {f"{name} function": ("import app", folder) for name, folder in folders.items()}
    imports |= {
        name: (f"import app\napp.{table}.include_for(app.app, {path!r})", folders[handler])
        for name, (handler, table, path) in FIRST_REQUESTS.items()
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in imports}
    for _ in range(ROUNDS):
        for name, (code, folder) in imports.items():
            runs[name].append(_seconds(code, folder, shipped))
    return {
        name: (statistics.median(cpu for cpu, _ in times), statistics.median(wall for _, wall in times))
        for name, times in runs.items()
    }


def report(medians: dict[str, tuple[float, float]], where: str) -> None:
    floor, floor_wall = medians.pop("floor")
    FIGURES[f"cold import {where}: floor (boto3, pydantic, jinja2, Powertools resolver, Logger, Tracer, Metrics)"] = (
        f"{floor:.2f} s CPU, {floor_wall:.2f} s wall (medians of {ROUNDS})"
    )
    for name, (cpu, wall) in medians.items():
        FIGURES[f"cold import {where}: {name} ÷ floor"] = f"{cpu / floor:.1f}× ({cpu:.2f} s CPU, {wall:.2f} s wall)"
    assert set(medians) == {f"{name} function" for name in HANDLERS} | set(FIRST_REQUESTS)


def test_cold_imports_beside_the_floor(benchmark):
    report(benchmark.pedantic(cold_imports, rounds=1, iterations=1), "(checkout)")


def test_cold_imports_as_shipped_beside_the_floor(benchmark):
    assert (BUILD / "CoreLayer" / "python" / "relance").is_dir(), "make bench runs sam build first"

    report(benchmark.pedantic(cold_imports, kwargs={"shipped": True}, rounds=1, iterations=1), "(as shipped)")
