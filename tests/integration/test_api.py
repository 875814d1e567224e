"""The API of template.yaml through the local runtime: API Gateway, authorizer, function."""

import requests

from relance.services.organization_admin import create_organization


def test_health_is_public(runtime):
    response = requests.get(f"{runtime.base_url}/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_api_key_identifies_the_organization_and_its_admin_role(runtime, api):
    response = api.get(f"{runtime.base_url}/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["organization"]["name"] == "My Organization"
    assert body["principal"]["role"] == "admin"
    assert body["principal"]["organizationId"] == body["organization"]["id"]


def test_each_key_sees_its_own_organization(runtime, api):
    other, other_key = create_organization("Other Co")

    mine = api.get(f"{runtime.base_url}/v1/me").json()
    theirs = requests.get(f"{runtime.base_url}/v1/me", headers={"X-Api-Key": other_key}).json()

    assert theirs["organization"]["id"] == other.id
    assert mine["organization"]["id"] != other.id


def test_missing_or_wrong_key_is_401_in_the_error_shape(runtime):
    for headers in ({}, {"X-Api-Key": "nope"}, {"X-Api-Key": runtime.session["apiKey"][:-2] + "xx"}):
        response = requests.get(f"{runtime.base_url}/v1/me", headers=headers)

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


def test_unknown_paths_are_404_in_the_error_shape(runtime, api):
    inside = api.get(f"{runtime.base_url}/v1/no-such-thing")
    outside = requests.get(f"{runtime.base_url}/no-such-thing")

    assert (inside.status_code, inside.json()["error"]["code"]) == (404, "not_found")
    assert (outside.status_code, outside.json()["error"]["code"]) == (404, "not_found")


def test_openapi_and_docs_are_public(runtime):
    spec = requests.get(f"{runtime.base_url}/v1/openapi.json")
    docs = requests.get(f"{runtime.base_url}/v1/docs")

    assert spec.status_code == 200
    assert spec.json()["info"]["title"] == "Relance API"
    assert "/v1/me" in spec.json()["paths"]
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")
