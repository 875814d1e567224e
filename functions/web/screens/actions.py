"""The collector's queue: To do (my open tasks, calls and Reply tasks, the customer owing most
overdue first) and All actions (planned, sent, skipped, failed; failures with their reason and
where to fix them).

The URL holds the tab and filters; the forms (complete with a note, skip with a reason) post to the
URL they were shown from and answer 303 back to it, or the list again with the reason (422).
"""

from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.domain.actions import ActionStatus
from relance.errors import Conflict, Invalid
from relance.services import dunning, workspace
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, full_path, page, redirect, signed_in
from screens.customers import ACTIONS

router = Router()
STATUSES = {"planned": "Planned", "sent": "Sent", "skipped": "Skipped", "failed": "Failed"}
SHOWN = {"open": "To do", "done": "Done", "postponed": "Postponed", "to_post": "To post", **STATUSES}


def _show(person: SignedIn, *, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    event = router.current_event
    tab = "all" if event.get_query_string_value("tab") == "all" else "todo"
    kind = event.get_query_string_value("type") or ""
    chosen = event.get_query_string_value("status") or ""
    cursor = event.get_query_string_value("cursor") or None
    workflow = event.get_query_string_value("workflow") or ""
    order = event.get_query_string_value("order") or "overdue"
    if tab == "todo":
        queue: workspace.ActionQueue = workspace.my_tasks(person.principal, kind or None, workflow or None, order)
    else:
        queue = workspace.all_actions(person.principal, chosen or None, kind or None, cursor)
    more = None
    if queue.next_cursor:
        more = "/actions?" + urlencode({"tab": tab, "type": kind, "status": chosen, "cursor": queue.next_cursor})
    return page(
        router,
        person,
        "actions.html",
        block="results" if errors is None else None,
        status=status,
        nav="actions",
        tab=tab,
        kind=kind,
        chosen=chosen,
        workflow=workflow,
        order=order,
        queue=queue,
        more=more,
        here=full_path(event),
        types=ACTIONS,
        statuses=STATUSES,
        shown=SHOWN,
        errors=errors or {},
    )


@router.get("/actions")
def actions_page() -> Response[str]:
    return _show(signed_in(router))


@router.post("/actions")
def actions_form() -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    intent = first(fields, "do")
    action_id = first(fields, "action")
    note = first(fields, "note") or None
    try:
        if intent == "reassign":
            dunning.reassign_action(person.principal, action_id, first(fields, "owner"))
        elif intent == "complete":
            dunning.close_manual_action(person.principal, action_id, ActionStatus.DONE, note)
        elif intent == "skip":
            if not note:
                raise Invalid("please say why it is skipped", {"note": "a reason"})
            dunning.close_manual_action(person.principal, action_id, ActionStatus.SKIPPED, note)
        else:
            raise Invalid("unknown action", {"do": "not something this page does"})
    except (Invalid, Conflict) as refused:
        errors = {"action": action_id, "message": refused.message, **refused.fields}
        return _show(person, errors=errors, status=refused.status)
    return redirect(full_path(router.current_event), person)
