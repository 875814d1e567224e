"""The layer's requirements.txt, generated from pyproject.toml so the two never drift."""

from __future__ import annotations

import tomllib

from local.runtime import ROOT

HEADER = "# Generated from pyproject.toml by `make requirements`: do not edit.\n"


def layer_requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return HEADER + "".join(f"{dependency}\n" for dependency in project["dependencies"])
