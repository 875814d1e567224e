"""Shared test fixtures: paths to the template, the fixture stack and the sample events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local.heap import collect_less_often

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Tests print no EMF metrics and send no traces.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
# Before the test modules import moto, botocore and the functions: the collector walks that heap rarely.
collect_less_often()


@pytest.fixture
def sample_event():
    """Load a real-shaped event from events/, e.g. ``sample_event("api/get-health.json")``."""

    def load(name: str) -> Any:
        return json.loads((EVENTS / name).read_text(encoding="utf-8"))

    return load
