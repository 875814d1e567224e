"""Each organization has its own share of the API: over its requests per second it gets 429s,
naming the limit, while another organization is served."""

import requests

from relance import clock
from relance.api import throttle
from relance.services.organization_admin import create_organization
from relance.settings import get_settings


def test_an_organization_over_its_limit_gets_429_while_another_organization_is_served(runtime, api, monkeypatch):
    limited = get_settings().model_copy(update={"organization_requests_per_second": 5})
    monkeypatch.setattr(throttle, "get_settings", lambda: limited)
    monkeypatch.setattr(clock, "real_seconds", lambda: 1_900_000_000.25)  # every request in the same second
    _, other_key = create_organization("Served Elsewhere")
    other = requests.Session()
    other.headers["X-Api-Key"] = other_key
    me = f"{runtime.base_url}/v1/me"

    allowed = [api.get(me).status_code for _ in range(5)]
    refused = api.get(me)
    served = other.get(me)

    assert allowed == [200] * 5
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert "5 requests" in refused.json()["error"]["message"] and "rateLimit" in refused.json()["error"]["fields"]
    assert served.status_code == 200 and served.json()["organization"]["name"] == "Served Elsewhere"
    assert requests.get(f"{runtime.base_url}/health").status_code == 200  # no organization: the stage throttle only
