"""The repository explains itself: no tracked file points at a path outside it, and every relative
link of its Markdown leads to a file it holds."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import ROOT

OUTSIDE = ("shared/API.md", "shared/DESIGN.md", "shared/STYLE.md", "../shared", "/work/shared")
"""Papers of the people who wrote Relance, which a clone of the repository does not have."""

LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)")


def _tracked() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    return [ROOT / name for name in names if name and (ROOT / name).is_file()]


def test_no_tracked_file_mentions_a_path_outside_the_repository():
    this = Path(__file__).resolve()
    mentions = [
        f"{path.relative_to(ROOT)}: {outside}"
        for path in _tracked()
        if path.resolve() != this
        for outside in OUTSIDE
        if outside.encode() in path.read_bytes()
    ]

    assert mentions == []


def test_every_relative_markdown_link_leads_to_a_file_of_the_repository():
    broken = []
    for path in (p for p in _tracked() if p.suffix == ".md"):
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):  # https:, mailto:
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")

    assert broken == []
