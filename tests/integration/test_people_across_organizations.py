"""A person (an email address) belongs to one organization: adding an address another organization
has answers exactly as for a new one, and the person resolves the invitation themselves."""

from __future__ import annotations

import uuid

import requests

from relance import aws
from relance.services.organization_admin import create_organization
from tests.integration.test_account_manager_scope import PASSWORD, signed_in


def sign_in(runtime, email: str) -> requests.Session:
    answer = aws.client("cognito-idp").admin_initiate_auth(
        UserPoolId=runtime.template.physical_ids["UserPool"],
        ClientId=runtime.template.physical_ids["UserPoolClient"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {answer['AuthenticationResult']['IdToken']}"
    return session


def elsewhere(runtime) -> tuple[str, requests.Session]:
    """Another organization with its admin key."""
    org, key = create_organization(f"Elsewhere {uuid.uuid4().hex[:6]}")
    session = requests.Session()
    session.headers["X-Api-Key"] = key
    return org.id, session


def identity_of(runtime, email: str) -> dict[str, str]:
    user = aws.client("cognito-idp").admin_get_user(
        UserPoolId=runtime.template.physical_ids["UserPool"], Username=email
    )
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_an_address_of_another_organization_is_added_as_a_new_one_would_be(runtime):
    person, person_api = signed_in(runtime, name="Paz")  # an account manager of the runtime's organization
    home = runtime.session["organization"]
    _, other = elsewhere(runtime)
    url = f"{runtime.base_url}/v1/users"

    existing = other.post(url, json={"email": person["email"], "name": "Paz Elsewhere", "role": "admin"})
    fresh = other.post(
        url, json={"email": f"new.{uuid.uuid4().hex[:8]}@elsewhere.example", "name": "New", "role": "admin"}
    )

    assert existing.status_code == fresh.status_code == 201, existing.text
    assert existing.headers.get("Content-Type") == fresh.headers.get("Content-Type")
    assert sorted(existing.json()) == sorted(fresh.json())
    assert existing.json()["email"] == person["email"] and existing.json()["role"] == "admin"
    assert home["id"] not in existing.text and home["name"] not in existing.text
    shown = other.get(f"{url}/{existing.json()['id']}")
    assert shown.status_code == 200 and sorted(shown.json()) == sorted(other.get(f"{url}/{fresh.json()['id']}").json())
    again = other.post(url, json={"email": person["email"], "name": "Paz Again", "role": "admin"})
    assert again.status_code == 409 and "email" in again.json()["error"]["fields"]  # a user of this organization
    # Nothing changed for the person: still of their organization, with their role.
    assert identity_of(runtime, person["email"])["custom:organization_id"] == home["id"]
    me = person_api.get(f"{runtime.base_url}/v1/me").json()
    assert me["principal"]["organizationId"] == home["id"] and me["principal"]["role"] == "account_manager"


def test_the_person_accepts_the_invitation_and_moves_to_the_inviting_organization(runtime, api):
    person, person_api = signed_in(runtime, name="Mo")
    home = runtime.session["organization"]["id"]
    other_id, other = elsewhere(runtime)
    invited = other.post(
        f"{runtime.base_url}/v1/users", json={"email": person["email"], "name": "Mo Moved", "role": "admin"}
    ).json()

    [invitation] = person_api.get(f"{runtime.base_url}/v1/invitations").json()["items"]
    assert invitation["role"] == "admin" and invitation["organizationName"].startswith("Elsewhere")
    assert api.get(f"{runtime.base_url}/v1/invitations").json()["items"] == []  # an API key is nobody's person
    foreign = api.post(f"{runtime.base_url}/v1/invitations/{invitation['id']}/accept")
    assert foreign.status_code == 404

    accepted = person_api.post(f"{runtime.base_url}/v1/invitations/{invitation['id']}/accept")

    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"organizationId": other_id, "userId": invited["id"], "role": "admin"}
    assert identity_of(runtime, person["email"])["custom:organization_id"] == other_id
    me = sign_in(runtime, person["email"]).get(f"{runtime.base_url}/v1/me").json()["principal"]
    assert (me["organizationId"], me["userId"], me["role"]) == (other_id, invited["id"], "admin")
    assert api.get(f"{runtime.base_url}/v1/users/{person['id']}").status_code == 404  # they left
    assert home != other_id
    again = person_api.post(f"{runtime.base_url}/v1/invitations/{invitation['id']}/accept")
    assert again.status_code == 404


def test_changing_or_removing_an_invited_person_leaves_their_identity_alone(runtime):
    person, _ = signed_in(runtime, name="Stay")
    home = runtime.session["organization"]["id"]
    _, other = elsewhere(runtime)
    invited = other.post(
        f"{runtime.base_url}/v1/users", json={"email": person["email"], "name": "Stay Put", "role": "admin"}
    ).json()

    changed = other.patch(f"{runtime.base_url}/v1/users/{invited['id']}", json={"role": "account_manager"})
    removed = other.delete(f"{runtime.base_url}/v1/users/{invited['id']}")

    assert changed.status_code == 200 and changed.json()["role"] == "account_manager"
    assert removed.status_code == 204
    assert identity_of(runtime, person["email"])["custom:organization_id"] == home
    still = sign_in(runtime, person["email"])  # their identity, password and group are theirs still
    assert still.get(f"{runtime.base_url}/v1/me").json()["principal"]["role"] == "account_manager"
    assert still.get(f"{runtime.base_url}/v1/invitations").json()["items"] == []


def test_a_declined_invitation_is_gone_for_the_person(runtime):
    person, person_api = signed_in(runtime, name="Dee")
    _, other = elsewhere(runtime)
    other.post(f"{runtime.base_url}/v1/users", json={"email": person["email"], "name": "Dee", "role": "admin"})
    [invitation] = person_api.get(f"{runtime.base_url}/v1/invitations").json()["items"]

    declined = person_api.delete(f"{runtime.base_url}/v1/invitations/{invitation['id']}")

    assert declined.status_code == 204
    assert person_api.get(f"{runtime.base_url}/v1/invitations").json()["items"] == []
    assert person_api.post(f"{runtime.base_url}/v1/invitations/{invitation['id']}/accept").status_code == 404
