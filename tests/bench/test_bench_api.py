"""Latency of the request path through the local runtime, and the API function's cold import.

Figures, not pass/fail thresholds: `make bench` prints them.
"""

import subprocess
import sys

import requests

from relance.services.organizations import authenticate_api_key
from tests.conftest import ROOT


def test_health_through_api_gateway(benchmark, runtime):
    session = requests.Session()

    response = benchmark(session.get, f"{runtime.base_url}/health")

    assert response.status_code == 200


def test_authenticated_request_authorizer_and_two_get_items(benchmark, runtime, api):
    response = benchmark(api.get, f"{runtime.base_url}/v1/me")

    assert response.status_code == 200


def test_api_key_lookup(benchmark, runtime):
    principal = benchmark(authenticate_api_key, runtime.session["apiKey"])

    assert principal is not None


def test_api_function_cold_import(benchmark):
    """What a Lambda cold start serving a customer list pays to import (a fresh interpreter each round): the
    handler, then the customers' router, imported by the first request to its paths (relance.api.routers)."""
    code = (
        "import sys; sys.path.insert(0, 'functions/api'); import app; app.ROUTERS.include_for(app.app, '/v1/customers')"
    )

    def cold_import() -> int:
        return subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True).returncode

    assert benchmark.pedantic(cold_import, rounds=5, iterations=1) == 0
