"""Who did something, named as people read it: a person by their name, an API key by its label.

What a principal writes (a note, a manual email, a reply) carries ``owner``: the user's id, or
``apikey:<key id>`` for an API key, which also stores ``ownerName`` (the key's label then), so
what a key did keeps its name after the key is revoked. Timelines add ``…Name`` and
``…Initials`` to ``owner``, ``by``, ``closedBy`` and ``assignedBy``, whichever of the two they
hold (``by`` holds a principal id: ``user:<user id>`` or ``apikey:<key id>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relance.domain.organizations import Principal
from relance.storage import organizations as org_store
from relance.storage import users as user_store

API_KEY_PREFIX = "apikey:"
USER_PREFIX = "user:"
API_KEY_INITIALS = "API"


def _key_names(org_id: str) -> dict[str, str]:
    """Every live API key of the organization: ``apikey:<id>`` → its label (one Query)."""
    return {f"{API_KEY_PREFIX}{k['id']}": str(k.get("name") or "API key") for k in org_store.list_api_keys(org_id)}


def display_name(principal: Principal) -> str:
    """The caller as people read it: the user's name, or the API key's label."""
    if principal.user_id:
        user = user_store.get_user(principal.organization_id, principal.user_id)
        return str((user or {}).get("name") or "Someone")
    return _key_names(principal.organization_id).get(principal.principal_id, "An API key")


def author_of(principal: Principal) -> dict[str, Any]:
    """The fields that name who did something, stored with it."""
    if principal.user_id:
        return {"owner": principal.user_id}
    return {"owner": principal.principal_id, "ownerName": display_name(principal)}


def people(users: Iterable[dict[str, Any]], api_keys: Iterable[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Every reference to one of ``users`` or ``api_keys`` (as stored) → (name, initials)."""
    found: dict[str, tuple[str, str]] = {}
    for user in users:
        person = (str(user.get("name") or ""), str(user.get("initials") or ""))
        found[user["id"]] = found[f"{USER_PREFIX}{user['id']}"] = person
    for key in api_keys:
        found[f"{API_KEY_PREFIX}{key['id']}"] = (str(key.get("name") or "API key"), API_KEY_INITIALS)
    return found


def names(org_id: str, references: set[str]) -> dict[str, tuple[str, str]]:
    """``reference`` → (name, initials) for each user or live API key among ``references`` (a Query of
    the users, one of the keys, each only when referred to)."""
    users = user_store.list_users(org_id) if any(not r.startswith(API_KEY_PREFIX) for r in references) else []
    api_keys = org_store.list_api_keys(org_id) if any(r.startswith(API_KEY_PREFIX) for r in references) else []
    found = people(users, api_keys)
    return {r: found[r] for r in references if r in found}


def name_people(
    org_id: str,
    items: list[dict[str, Any]],
    fields: tuple[str, ...],
    known: dict[str, tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The items with ``<field>Name``/``<field>Initials`` for each of ``fields`` that names someone, from
    ``known`` people (``people``) or else read. A name stored with the item (an API key's, kept when the
    key is revoked) is kept."""
    if known is None:
        references = {item[f] for item in items for f in fields if isinstance(item.get(f), str)}
        known = names(org_id, references) if references else {}
    named = []
    for item in items:
        entry = dict(item)
        for field in fields:
            reference = entry.get(field)
            if not isinstance(reference, str):
                continue
            if reference.startswith(API_KEY_PREFIX):
                entry[f"{field}Name"] = entry.get(f"{field}Name") or known.get(reference, ("API key", ""))[0]
                entry[f"{field}Initials"] = API_KEY_INITIALS
            elif reference in known:
                entry[f"{field}Name"], entry[f"{field}Initials"] = known[reference]
        named.append(entry)
    return named
