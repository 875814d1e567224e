"""Integrations (admins): each source system Relance syncs from, with its connection's status, last run
and the records it could not apply; a form to connect or change it (settings, and the secret's fields,
which are never shown again: one left empty keeps its value), enable or disable it, and Sync now.

Forms post to ``/settings/integrations`` with ``do`` (``save``, ``sync``) and ``name``; success answers 303
back to the source's card, a refusal shows the page again with its reason on that card's fields.
"""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.domain.integrations import Connection, ConnectionFields, FormField, KindCounts
from relance.errors import Conflict, Invalid, NotFound
from relance.services import integrations
from relance.services.access import require_admin
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, page, redirect, signed_in

router = Router()
HERE = "/settings/integrations"
ERRORS_SHOWN = 10
OUTCOMES = {
    "done": "Done",
    "continued": "Done for now: the next run goes on from there",
    "unavailable": "Stopped: the source did not answer, the next run resumes",
    "refused": "Refused by the source: check the settings and keys",
    "failed": "Failed in Relance: it is tried again",
    "busy": "Another run was under way",
    "disabled": "Not connected",
}
SAID = {"saved": "Connection saved.", "queued": "Sync queued: it runs in a moment."}


def _totals(connection: Connection) -> dict[str, int]:
    """The last run's counts, all kinds together."""
    counts = connection.last_run.counts.values() if connection.last_run else []
    return {k: sum(getattr(c, k) for c in counts) for k in KindCounts.model_fields}


def _card(person: SignedIn, connection: Connection) -> dict[str, Any]:
    settings_fields, secret_fields = integrations.fields_of(connection.name)
    latest = integrations.list_errors(person.principal, connection.name, ERRORS_SHOWN)[0] if connection.errors else []
    return {
        "c": connection,
        "totals": _totals(connection),
        "latest": latest,
        "settings_fields": settings_fields,
        "secret_fields": secret_fields,
    }


def _show(
    person: SignedIn,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response[str]:
    require_admin(person.principal)
    cards = [_card(person, c) for c in integrations.list_connections(person.principal)]
    return page(
        router,
        person,
        "integrations.html",
        status=status,
        nav="settings",
        tab="integrations",
        cards=cards,
        outcomes=OUTCOMES,
        failed=failed,
        errors=errors or {},
        v=values or {},
        done=done,
    )


@router.get(HERE)
def integrations_page() -> Response[str]:
    person = signed_in(router)
    return _show(person, done=SAID.get(router.current_event.get_query_string_value("done") or ""))


def _fields(
    settings_fields: list[FormField], secret_fields: list[FormField], sent: dict[str, list[str]]
) -> ConnectionFields:
    """The connection as the form sends it: a setting left empty takes its default, a secret field left
    empty keeps its value."""
    settings: dict[str, Any] = {}
    for field in settings_fields:
        key = f"settings.{field.name}"
        if field.kind == "checkbox":
            settings[field.name] = key in sent
        elif first(sent, key):
            settings[field.name] = first(sent, key)
    secret = {f.name: first(sent, f"secret.{f.name}") for f in secret_fields if first(sent, f"secret.{f.name}")}
    return ConnectionFields(enabled="enabled" in sent, settings=settings, secret=secret or None)


@router.post(HERE)
def integrations_form() -> Response[str]:
    person = signed_in(router)
    sent = form(router.current_event)
    check_csrf(router, person, sent)
    require_admin(person.principal)
    name, intent = first(sent, "name"), first(sent, "do")
    try:
        if intent == "save":
            settings_fields, secret_fields = integrations.fields_of(name)
            integrations.put_connection(person.principal, name, _fields(settings_fields, secret_fields, sent))
        elif intent == "sync":
            integrations.start_sync(person.principal, name)
        else:
            raise Invalid("unknown action", {"do": "not something this page does"})
    except (Invalid, NotFound, Conflict) as refused:
        values = {k: first(sent, k) for k in sent if k.startswith("settings.")}  # never the secret's
        errors = {"message": refused.message, **refused.fields}
        return _show(person, failed=name, errors=errors, values=values, status=refused.status)
    return redirect(f"{HERE}?done={'saved' if intent == 'save' else 'queued'}#{name}", person)
