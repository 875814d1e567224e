"""Bad input through the HTTP front: each is a 4xx naming the field, writes nothing and changes nothing."""

import pytest

from tests.integration.helpers import ok


@pytest.fixture
def url(runtime):
    return lambda path: f"{runtime.base_url}/v1{path}"


@pytest.mark.parametrize("field", ["accountManagerIds", "tags", "customFields"])
def test_null_collections_on_a_customer_are_refused_and_change_nothing(api, url, field):
    customer = ok(api.post(url("/customers"), json={"name": f"Null {field}", "tags": ["kept"]}), 201)

    patched = api.patch(url(f"/customers/{customer['id']}"), json={field: None})
    bulk = api.post(url("/customers/bulk"), json={"ids": [customer["id"]], "set": {field: None}})

    assert patched.status_code == 422 and field in patched.json()["error"]["fields"]
    if field != "tags":  # bulk sets no tags
        assert bulk.status_code == 422 and f"set.{field}" in bulk.json()["error"]["fields"]
    after = ok(api.get(url(f"/customers/{customer['id']}")))
    assert after["tags"] == ["kept"] and after["accountManagerIds"] == [] and after["customFields"] == {}
    assert customer["id"] in [c["id"] for c in ok(api.get(url("/customers"), params={"limit": 200}))["items"]]
