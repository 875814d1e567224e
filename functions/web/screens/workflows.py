"""Workflows: the list (everyone reads it), and for admins the builder: create, duplicate, edit, delete.

The editor's form posts to its own URL with ``do``: ``save``, ``preview``, ``add`` (one more step) or
``remove-<row>``; htmx swaps the steps and the preview alone, and without JavaScript the page comes
back whole. The preview is the dunning planner's own answer for an invoice due today.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import ValidationError

from relance.concurrency import together
from relance.domain.workflows import ActionType, Anchor, Tone, Workflow, WorkflowFields
from relance.errors import Conflict, Invalid, NotFound, validation_fields
from relance.services import templates, workflows, workspace
from relance.services.access import require_admin
from relance.web.session import SignedIn
from screens.base import check_csrf, first, form, is_htmx, page, redirect, signed_in
from screens.customers import ACTIONS

router = Router()
LANGUAGES = {"en": "English", "fr": "French"}
NEW = "new"


def _listed(person: SignedIn, errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    found, known = together(
        lambda: workflows.list_workflows(person.principal), lambda: templates.list_templates(person.principal)
    )
    listed = sorted(found, key=lambda w: w.name.lower())
    names = {t.id: t.name for t in known}
    return page(
        router, person, "workflows.html", status=status, nav="workflows", workflows=listed, actions=ACTIONS,
        templates=names, errors=errors or {},
    )  # fmt: skip


@router.get("/workflows")
def workflows_page() -> Response[str]:
    return _listed(signed_in(router))


@router.post("/workflows")
def workflows_form() -> Response[str]:
    """``do=delete`` of ``workflow``: refused (409, naming the customers) while customers follow it."""
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    if first(fields, "do") != "delete":
        raise Invalid("unknown action", {"do": "not something this page does"})
    chosen = first(fields, "workflow")
    try:
        workflows.delete_workflow(person.principal, chosen)
    except Conflict as refused:
        return _listed(person, {"workflow": chosen, "message": refused.message, **refused.fields}, 409)
    return redirect("/workflows", person)


def _draft(workflow: Workflow | WorkflowFields) -> dict[str, Any]:
    """A workflow as the editor's form holds it: offsets as days before or after."""
    steps = [
        {
            "id": s.id,
            "days": str(abs(s.offset_days)),
            "when": "before" if s.offset_days < 0 else "after",
            "anchor": s.anchor.value,
            "action": s.action.value,
            "template": s.template_id or "",
            "to": list(s.to),
            "cc": list(s.cc),
            "assignee": s.assignee or "",
        }
        for s in workflow.steps
    ]
    return {
        "name": workflow.name,
        "language": workflow.language,
        "tone": workflow.tone.value,
        "minContactDelayDays": str(workflow.min_contact_delay_days),
        "steps": steps,
    }


def _blank_step(steps: list[dict[str, Any]]) -> dict[str, Any]:
    used = {s["id"] for s in steps}
    number = next(n for n in range(1, len(used) + 2) if f"step-{n}" not in used)
    last = max((int(s["days"]) for s in steps if s["when"] == "after" and s["days"].isdigit()), default=0)
    return {
        "id": f"step-{number}", "days": str(last + 7), "when": "after", "anchor": "due", "action": "email",
        "template": "", "to": [], "cc": [], "assignee": "",
    }  # fmt: skip


def _posted(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The editor's form as sent: step rows are ``s<row>.<field>``, in the order of their rows."""
    rows = sorted({int(k[1:-3]) for k in fields if k.startswith("s") and k.endswith(".id") and k[1:-3].isdigit()})
    steps = [
        {
            "id": first(fields, f"s{r}.id"),
            "days": first(fields, f"s{r}.days"),
            "when": first(fields, f"s{r}.when", "after"),
            "anchor": first(fields, f"s{r}.anchor", "due"),
            "action": first(fields, f"s{r}.action", "email"),
            "template": first(fields, f"s{r}.template"),
            "to": [v for v in fields.get(f"s{r}.to", []) if v],
            "cc": [v for v in fields.get(f"s{r}.cc", []) if v],
            "assignee": first(fields, f"s{r}.assignee"),
        }
        for r in rows
    ]
    return {
        "name": first(fields, "name"),
        "language": first(fields, "language", "en"),
        "tone": first(fields, "tone", "formal"),
        "minContactDelayDays": first(fields, "minContactDelayDays"),
        "steps": steps,
    }


def _fields(draft: dict[str, Any]) -> WorkflowFields:
    """The draft checked by the workflow's own model; Invalid names each field at fault."""
    steps = []
    for s in draft["steps"]:
        days: Any = int(s["days"]) if s["days"].isdigit() else s["days"]
        manual = s["action"] in (ActionType.TASK, ActionType.CALL)
        steps.append(
            {
                "id": s["id"], "offsetDays": -days if isinstance(days, int) and s["when"] == "before" else days,
                "anchor": s["anchor"], "action": s["action"], "templateId": s["template"] or None,
                "to": s["to"], "cc": s["cc"], "assignee": (s["assignee"] or "account_manager") if manual else None,
            }
        )  # fmt: skip
    values = {
        "name": draft["name"], "language": draft["language"], "tone": draft["tone"],
        "minContactDelayDays": draft["minContactDelayDays"], "steps": steps,
    }  # fmt: skip
    try:
        return WorkflowFields.model_validate(values)
    except ValidationError as error:
        raise Invalid("please check the highlighted fields", validation_fields(error.errors())) from error


def _editor(
    person: SignedIn,
    workflow_id: str,
    draft: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
    block: str | None = None,
) -> Response[str]:
    found, known = together(
        lambda: workspace.directory(person.principal), lambda: templates.list_templates(person.principal)
    )
    errors = errors or {}
    shown = None
    if not errors:
        try:
            shown = workflows.preview(found.organization, _fields(draft))
        except Invalid:
            shown = None
    return page(
        router,
        person,
        "workflow.html",
        block=block,
        status=status,
        nav="workflows",
        workflow_id=workflow_id,
        base="/workflows/new" if workflow_id == NEW else f"/workflows/{workflow_id}",
        draft=draft,
        errors=errors,
        preview=shown,
        positions=found.positions,
        users=found.managers,
        templates=known,
        actions=ACTIONS,
        action_types=[a.value for a in ActionType],
        anchors=[a.value for a in Anchor],
        tones=[t.value for t in Tone],
        languages=LANGUAGES | {code: code.upper() for code in [draft["language"]] if code and code not in LANGUAGES},
    )


def _existing(person: SignedIn, workflow_id: str) -> Workflow:
    found = workflows.get_workflow(person.principal.organization_id, workflow_id)
    if found is None:
        raise NotFound("workflow not found")
    return found


@router.get("/workflows/<workflow_id>")
def workflow_page(workflow_id: str) -> Response[str]:
    """The editor; ``/workflows/new`` starts a workflow, ``?from=<id>`` as a copy of one (saved on Save)."""
    person = signed_in(router)
    require_admin(person.principal)
    if workflow_id != NEW:
        return _editor(person, workflow_id, _draft(_existing(person, workflow_id)))
    source = router.current_event.get_query_string_value("from") or None
    if source:
        draft = _draft(_existing(person, source))
        draft["name"] = f"Copy of {draft['name']}"[:100]
    else:
        draft = {"name": "", "language": "en", "tone": "formal", "minContactDelayDays": "7", "steps": []}
        draft["steps"] = [_blank_step([])]
    return _editor(person, NEW, draft)


@router.post("/workflows/<workflow_id>")
def workflow_form(workflow_id: str) -> Response[str]:
    person = signed_in(router)
    fields = form(router.current_event)
    check_csrf(router, person, fields)
    require_admin(person.principal)
    if workflow_id != NEW:
        _existing(person, workflow_id)
    draft = _posted(fields)
    intent = first(fields, "do")
    htmx = is_htmx(router.current_event)
    if intent == "add":
        draft["steps"].append(_blank_step(draft["steps"]))
        return _editor(person, workflow_id, draft, block="builder" if htmx else None)
    if intent.startswith("remove-"):
        row = intent.removeprefix("remove-")
        draft["steps"] = [s for i, s in enumerate(draft["steps"]) if str(i) != row]
        return _editor(person, workflow_id, draft, block="builder" if htmx else None)
    if intent == "preview":
        try:
            _fields(draft)
        except Invalid as refused:
            errors = {"message": refused.message, **refused.fields}
            return _editor(person, workflow_id, draft, errors=errors, status=200 if htmx else 422, block="preview")
        return _editor(person, workflow_id, draft, block="preview")
    if intent != "save":
        raise Invalid("unknown action", {"do": "not something this page does"})
    try:
        checked = _fields(draft)
        if workflow_id == NEW:
            saved = workflows.create_workflow(person.principal, checked)
        else:
            saved = workflows.replace_workflow(person.principal, workflow_id, checked)
    except Invalid as refused:
        return _editor(person, workflow_id, draft, errors={"message": refused.message, **refused.fields}, status=422)
    return redirect(f"/workflows#workflow-{saved.id}", person)
