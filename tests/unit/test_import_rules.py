"""The import rules (pyproject.toml's [tool.importlinter], run by `make lint`) are whole, and each one
fails `lint-imports` when broken.

The break tests run the real contracts, without their list of tolerated imports, over a small
package written in a temporary directory: they pass whatever the state of the working tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _relance_modules() -> set[str]:
    """The top-level modules of the relance package in the working tree."""
    package = ROOT / "layers" / "core" / "relance"
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.parent.name for p in package.glob("*/__init__.py")}
    return {f"relance.{name}" for name in modules}


def _ours(modules: list[str]) -> set[str]:
    return {m for m in modules if m.startswith("relance.")}


def test_the_domain_rule_forbids_every_module_of_relance_but_errors():
    forbidden = _ours(CONTRACTS["domain"]["forbidden_modules"])

    assert forbidden == _relance_modules() - {"relance.domain", "relance.errors"}, (
        "a new module of relance: add it to the domain contract's forbidden_modules"
    )


def test_handlers_may_import_no_module_that_may_import_aws():
    adapters = _ours(CONTRACTS["aws"]["allowed_importers"])
    # the source-system connectors are adapters too, though to no AWS service
    adapters |= {"relance.sync"}

    assert _ours(CONTRACTS["handlers"]["forbidden_modules"]) == adapters
    assert adapters <= _relance_modules()


def test_a_tolerated_import_that_is_gone_fails_the_lint_until_its_line_is_deleted():
    for contract in CONTRACTS.values():
        assert contract.get("unmatched_ignore_imports_alerting", "error") == "error", contract["id"]


# ---------------------------------------------------------------- each rule, broken on purpose

CLEAN = {
    "relance/domain/money.py": "from relance.errors import Invalid\n",
    "relance/services/payments.py": "from relance.domain import money\nfrom relance.storage import ledger\n",
    "relance/storage/ledger.py": "import boto3\nimport botocore\nfrom relance.aws import client\n",
    "functions/api/app.py": "from relance.services import payments\nfrom relance.domain import money\n",
}
"""Imports that follow every rule: the package below passes as it is."""

BREAKS = {
    "domain": ("relance/domain/money.py", "from relance.services import payments\n"),
    "aws": ("relance/services/payments.py", "import boto3\n"),
    "handlers": ("functions/api/app.py", "from relance.storage import ledger\n"),
}


def _toml(value: Any) -> str:
    return json.dumps(value)  # a string, a list of strings or a boolean is written alike in TOML


def _write_project(root: Path, sources: dict[str, str]) -> None:
    """A package with every module the contracts name, ``sources`` in it, and the contracts without
    their tolerated imports."""
    named = {
        module
        for contract in CONTRACTS.values()
        for key in ("source_modules", "forbidden_modules", "protected_modules", "allowed_importers")
        for module in contract.get(key, [])
    }
    for module in sorted(m for m in named | {"relance.errors"} if m.startswith("relance.")):
        package = root.joinpath(*module.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
    (root / "relance" / "__init__.py").write_text("")
    for path, text in sources.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)

    lines = ["[tool.importlinter]"]
    lines += [f"{key} = {_toml(value)}" for key, value in CONFIG.items() if key != "contracts"]
    for contract in CONFIG["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {_toml(value)}" for key, value in contract.items() if key != "ignore_imports"]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(root)}  # this relance, not the installed one
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_package_that_follows_the_rules_passes(tmp_path):
    _write_project(tmp_path, CLEAN)

    result = _lint_imports(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("rule", sorted(BREAKS))
def test_lint_fails_on_a_break_of_each_rule(tmp_path, rule):
    path, line = BREAKS[rule]
    _write_project(tmp_path, {**CLEAN, path: CLEAN[path] + line})

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{CONTRACTS[rule]['name']} BROKEN" in result.stdout
    assert f"Contracts: {len(CONTRACTS) - 1} kept, 1 broken." in result.stdout
