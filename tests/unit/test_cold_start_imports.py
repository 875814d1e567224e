"""A cold start imports what every request needs, nothing more: no function's handler pulls a heavy
library at import. Each adapter imports its library on first use (docs/architecture.md, "Cold starts").

A handler is imported as Lambda imports it: a fresh interpreter, its code folder first on the path, the
module named by ``Handler`` in template.yaml. ``python -X importtime`` says who imported what, so a failure
names the chain that pulled the library in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.template import Template
from tests.conftest import ROOT

TEMPLATE = Template(ROOT / "template.yaml")
FUNCTIONS = sorted(TEMPLATE.resources("AWS::Serverless::Function"))

HEAVY = {
    "reportlab": "PDF letters and statements: relance.mail.letters, relance.portal.statement_pdf",
    "PIL": "reportlab's images",
    "bs4": "the HTML of inbound mail: relance.mail.inbound",
    "soupsieve": "BeautifulSoup's CSS selectors",
    "mailparser_reply": "the reply of inbound mail: relance.mail.inbound",
    "slack_sdk": "Slack notifications: relance.services.notifications",
    "stripe": "Stripe Checkout: relance.payments.stripe_checkout",
    "requests": "Stripe's and the connectors' HTTP (X-Ray patches it when it is imported)",
    "aws_xray_sdk": "the tracer, made by the first traced invocation: relance.observability",
    "quickbooks": "the QuickBooks connector, loaded by name: relance.sync",
    "intuitlib": "the QuickBooks connector's OAuth",
    "simple_salesforce": "the Salesforce connector, loaded by name: relance.sync",
}
"""Library → what uses it. Each costs a cold start from 10 to 50 ms, for requests that mostly never use it."""

_LINE = re.compile(r"import time:\s+\d+ \|\s+\d+ \|(?P<indent> *)(?P<module>\S+)")


def imported_by(code_folder: Path, module: str) -> dict[str, list[str]]:
    """Every module importing ``module`` pulls in, each with its chain of importers, outermost last."""
    environment = {**os.environ, "LAMBDA_TASK_ROOT": str(code_folder), "AWS_LAMBDA_FUNCTION_NAME": "cold-start"}
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=code_folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # -X importtime lists each import after the ones it caused, indented one step deeper than its importer.
    entries = [(len(m["indent"]) // 2, m["module"]) for m in map(_LINE.match, run.stderr.splitlines()) if m]
    [top] = [i for i, (depth, name) in enumerate(entries) if depth == 0 and name == module]
    start = max((i for i, (depth, _) in enumerate(entries[:top]) if depth == 0), default=-1) + 1
    chains: dict[str, list[str]] = {}
    for i in range(start, top + 1):
        depth, name = entries[i]
        chain = [name]
        for later_depth, later in entries[i + 1 : top + 1]:
            if later_depth < depth:
                chain.append(later)
                depth = later_depth
        chains[name] = chain
    return chains


def heavy_imports(code_folder: Path, module: str) -> list[str]:
    """Each heavy library ``module`` imports, with the chain that pulled it in."""
    return sorted(
        {
            " ← ".join([name.partition(".")[0], *chain[1:]]) + f"  ({HEAVY[name.partition('.')[0]]})"
            for name, chain in imported_by(code_folder, module).items()
            if name.partition(".")[0] in HEAVY and chain[1].partition(".")[0] not in HEAVY  # where it came in
        }
    )


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_a_handler_imports_no_heavy_library(logical_id):
    props = TEMPLATE.properties(logical_id)
    module = props["Handler"].rpartition(".")[0]

    assert heavy_imports(ROOT / props["CodeUri"], module) == []


ROUTERS = [
    (folder, package, path.stem)
    for folder, package in (("api", "routes"), ("web", "screens"), ("portal", "views"))
    for path in sorted((ROOT / "functions" / folder / package).glob("[!_]*.py"))
]


@pytest.mark.parametrize(("folder", "package", "module"), ROUTERS)
def test_a_router_imported_on_demand_imports_no_heavy_library(folder, package, module):
    """The API, the web app and the portal import a router on the first request to its paths (relance.api.routers):
    that request's cold start too is free of them."""
    assert heavy_imports(ROOT / "functions" / folder, f"{package}.{module}") == []


def test_a_heavy_library_pulled_in_on_the_way_is_found_with_its_chain(tmp_path):
    """The check above can fail: a handler importing an adapter that imports reportlab at its top."""
    (tmp_path / "letters_at_the_top.py").write_text("from reportlab.platypus import Paragraph\n", encoding="utf-8")
    (tmp_path / "app.py").write_text("import json\nimport letters_at_the_top\n", encoding="utf-8")

    found = heavy_imports(tmp_path, "app")

    assert found == [f"reportlab ← letters_at_the_top ← app  ({HEAVY['reportlab']})"]
