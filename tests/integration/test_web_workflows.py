"""The workflows list and builder through the local runtime: create, edit, duplicate, delete, preview."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance import clock
from relance.domain.planner import CustomerState, OpenInvoice, plan_next
from relance.domain.workflows import ActionType, Step, Workflow, WorkflowFields
from relance.services import dunning, workflows
from relance.services.organizations import get_organization
from relance.storage import customers as customer_store
from tests.integration.web import Browser, admin


def browser_of(demo: LocalRuntime, role: str) -> Browser:
    person = next(u for u in demo.session["users"] if u["role"] == role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def editor_fields(name: str, steps: list[dict[str, Any]], **general: str) -> dict[str, Any]:
    """The editor's form as a browser sends it: one ``s<row>.<field>`` group a step."""
    fields: dict[str, Any] = {"name": name, "language": "en", "tone": "formal", "minContactDelayDays": "7", **general}
    for row, step in enumerate(steps):
        values = {"when": "after", "anchor": "due", "action": "email", "template": "", "assignee": "", **step}
        fields |= {f"s{row}.{k}": v for k, v in values.items()}
    return fields


def post(browser: Browser, url: str, shown, **fields: Any):
    return browser.post(url, {"csrf": browser.csrf(shown), **fields}, follow=False)


def saved(demo: LocalRuntime, name: str) -> Workflow:
    return next(w for w in workflows.list_workflows(admin(demo)) if w.name == name)


def make(demo: LocalRuntime, name: str) -> Workflow:
    steps = [Step(id="first", offset_days=2, action=ActionType.EMAIL)]
    return workflows.create_workflow(admin(demo), WorkflowFields(name=name, steps=steps))


def test_the_workflows_are_listed_with_their_steps(demo):
    browser = browser_of(demo, "account_manager")
    known = workflows.list_workflows(admin(demo))

    page = browser.get("/workflows")

    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    for workflow in known:
        section = soup.select_one(f"#workflow-{workflow.id}")
        assert workflow.name in section.h2.text
        assert len(section.select("tbody tr")) == max(1, len(workflow.steps))
    assert soup.find("a", href="/workflows", attrs={"aria-current": "page"})


def test_an_admin_creates_a_workflow_from_the_form(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/workflows/new")
    fields = editor_fields(
        "Gentle", [{"id": "step-1", "days": "3", "when": "before"}, {"id": "step-2", "days": "5", "action": "call"}]
    )

    forged = browser.post("/workflows/new", fields, follow=False)
    answer = post(browser, "/workflows/new", shown, do="save", **fields)

    assert shown.status_code == 200 and forged.status_code == 403
    assert answer.status_code == 303
    created = saved(demo, "Gentle")
    assert answer.headers["Location"] == f"/workflows#workflow-{created.id}"
    assert [(s.offset_days, s.action, s.assignee) for s in created.steps] == [
        (-3, ActionType.EMAIL, None),
        (5, ActionType.CALL, "account_manager"),
    ]
    listed = BeautifulSoup(browser.get("/workflows").text, "html.parser")
    assert "Gentle" in listed.select_one(f"#workflow-{created.id} h2").text


def test_a_refused_workflow_shows_the_fields_at_fault(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/workflows/new")
    fields = editor_fields("", [{"id": "step-1", "days": "900"}], minContactDelayDays="400")

    answer = post(browser, "/workflows/new", shown, do="save", **fields)

    assert answer.status_code == 422
    soup = BeautifulSoup(answer.text, "html.parser")
    for control in ("f-name", "f-delay", "s0-days"):
        assert "is-invalid" in soup.select_one(f"#{control}")["class"], control
        assert soup.select_one(f"#{control}-error").text.strip()
    assert soup.select_one("#s0-days")["value"] == "900"  # what was typed comes back
    assert all(w.name for w in workflows.list_workflows(admin(demo)))


def test_an_admin_edits_a_step(demo):
    browser = browser_of(demo, "admin")
    workflow = make(demo, "To edit")
    url = f"/workflows/{workflow.id}"
    shown = browser.get(url)
    soup = BeautifulSoup(shown.text, "html.parser")
    assert soup.select_one("#s0-days")["value"] == "2"
    purchaser = soup.find("label", string="Purchaser")["for"]
    position = soup.select_one(f"#{purchaser}")["value"]

    answer = post(
        browser, url, shown, do="save",
        **editor_fields("To edit", [{"id": "first", "days": "4", "action": "letter", "cc": position}]),
    )  # fmt: skip

    assert answer.status_code == 303
    after = workflows.get_workflow(workflow_id=workflow.id, org_id=demo.session["organization"]["id"])
    assert after is not None and after.version == workflow.version + 1
    assert [(s.id, s.offset_days, s.action, s.cc) for s in after.steps] == [("first", 4, ActionType.LETTER, [position])]


def test_duplicate_opens_a_copy_saved_as_a_new_workflow(demo):
    browser = browser_of(demo, "admin")
    original = saved(demo, "Standard")

    shown = browser.get(f"/workflows/new?from={original.id}")
    soup = BeautifulSoup(shown.text, "html.parser")
    form = soup.select_one("#workflow-form")
    sent = [
        (i["name"], i.get("value", ""))
        for i in form.select("input")
        if i.get("type") != "checkbox" or i.has_attr("checked")
    ]
    sent += [(s["name"], (s.select_one("option[selected]") or s.option)["value"]) for s in form.select("select")]
    answer = browser.post("/workflows/new", [*sent, ("do", "save")], follow=False)

    assert dict(sent)["name"] == "Copy of Standard"
    assert answer.status_code == 303
    copy = saved(demo, "Copy of Standard")
    assert copy.id != original.id
    strip = lambda w: [s.model_dump() for s in w.steps]  # noqa: E731
    assert strip(copy) == strip(original) and copy.min_contact_delay_days == original.min_contact_delay_days
    assert workflows.get_workflow(demo.session["organization"]["id"], original.id) == original


def test_deleting_a_workflow_customers_follow_is_refused_naming_them(demo):
    browser = browser_of(demo, "admin")
    org = demo.session["organization"]["id"]
    followed = saved(demo, "Standard")
    following = sorted(
        (c["name"] for c in customer_store.list_customers(org) if c.get("dunningPlanId") == followed.id), key=str.lower
    )
    assert following  # the demo's customers follow it
    shown = browser.get("/workflows")

    answer = post(browser, "/workflows", shown, do="delete", workflow=followed.id)

    assert answer.status_code == 409
    refusal = BeautifulSoup(answer.text, "html.parser").select_one(f"#workflow-{followed.id} .alert")
    assert refusal is not None and all(name in refusal.text for name in following[:3])
    assert workflows.get_workflow(org, followed.id) is not None


def test_a_workflow_nobody_follows_is_deleted(demo):
    browser = browser_of(demo, "admin")
    unused = make(demo, "Unused")
    shown = browser.get("/workflows")

    answer = post(browser, "/workflows", shown, do="delete", workflow=unused.id)

    assert answer.status_code == 303 and answer.headers["Location"] == "/workflows"
    assert workflows.get_workflow(demo.session["organization"]["id"], unused.id) is None
    assert f"workflow-{unused.id}" not in browser.get("/workflows").text


def test_an_account_manager_reads_the_list_but_cannot_change_it(demo):
    browser = browser_of(demo, "account_manager")
    workflow = saved(demo, "Standard")
    shown = browser.get("/workflows")
    soup = BeautifulSoup(shown.text, "html.parser")

    editor = browser.get(f"/workflows/{workflow.id}")
    new = browser.get("/workflows/new")
    deleting = post(browser, "/workflows", shown, do="delete", workflow=workflow.id)
    saving = post(
        browser, f"/workflows/{workflow.id}", shown, do="save", **editor_fields("Mine", [{"id": "a", "days": "1"}])
    )

    assert not soup.find("a", href="/workflows/new") and not soup.find("a", href=f"/workflows/{workflow.id}")
    assert not soup.find("button", attrs={"value": "delete"})
    assert (editor.status_code, new.status_code, deleting.status_code, saving.status_code) == (403, 403, 403, 403)
    assert workflows.get_workflow(demo.session["organization"]["id"], workflow.id) == workflow


def expected_times(demo: LocalRuntime, fields: WorkflowFields) -> list[datetime]:
    """When the planner sends each step, one after the other, for an invoice due today (issued 30 days before)."""
    window = dunning.window_of(get_organization(demo.session["organization"]["id"]))
    due = clock.now().astimezone(window.timezone).date()
    invoice = OpenInvoice("i", "I", "USD", 1, due - timedelta(days=30), due)
    workflow = Workflow(id="w", **fields.model_dump())
    state, moment, times = CustomerState(), datetime.combine(invoice.issued_at, time.min, window.timezone), []
    for _ in workflow.steps:
        plan = plan_next(workflow, [invoice], state, window, moment)
        assert plan.at is not None and plan.step is not None and not plan.superseded
        times.append(plan.at.astimezone(window.timezone))
        state = CustomerState(performed=(*state.performed, plan.step.id), last_contact_at=plan.at)
        moment = plan.at
    return times


def test_the_preview_shows_when_each_step_goes_from_the_planner(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/workflows/new")
    steps = [
        {"id": "step-1", "days": "3", "when": "before"},
        {"id": "step-2", "days": "1"},
        {"id": "step-3", "days": "12"},
    ]
    fields = editor_fields("Previewed", steps, minContactDelayDays="6")
    expected = expected_times(
        demo,
        WorkflowFields(
            name="Previewed",
            min_contact_delay_days=6,
            steps=[
                Step(id="step-1", offset_days=-3, action=ActionType.EMAIL),
                Step(id="step-2", offset_days=1, action=ActionType.EMAIL),
                Step(id="step-3", offset_days=12, action=ActionType.EMAIL),
            ],
        ),
    )

    whole = post(browser, "/workflows/new", shown, do="preview", **fields)
    fragment = browser.post(
        "/workflows/new", {"csrf": browser.csrf(shown), "do": "preview", **fields}, headers={"HX-Request": "true"}
    )

    assert whole.status_code == 200 and fragment.status_code == 200
    assert "<html" not in fragment.text and "Previewed" not in [w.name for w in workflows.list_workflows(admin(demo))]
    for answer in (whole, fragment):
        rows = BeautifulSoup(answer.text, "html.parser").select("#preview tbody tr")
        assert [r["data-step"] for r in rows] == ["step-1", "step-2", "step-3"]
        assert [datetime.fromisoformat(r.time["datetime"]) for r in rows] == expected


def test_steps_are_added_and_removed_with_or_without_javascript(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/workflows/new")
    fields = editor_fields("Rows", [{"id": "step-1", "days": "1"}, {"id": "step-2", "days": "8"}])

    added = post(browser, "/workflows/new", shown, do="add", **fields)
    fragment = browser.post(
        "/workflows/new", {"csrf": browser.csrf(shown), "do": "remove-0", **fields}, headers={"HX-Request": "true"}
    )

    assert added.status_code == 200 and "<html" in added.text
    rows = BeautifulSoup(added.text, "html.parser").select("fieldset.step-row")
    assert [r.select_one("input[name$='.id']")["value"] for r in rows] == ["step-1", "step-2", "step-3"]
    assert fragment.status_code == 200 and "<html" not in fragment.text
    left = BeautifulSoup(fragment.text, "html.parser").select("fieldset.step-row")
    assert [
        (r.select_one("input[name$='.id']")["value"], r.select_one("input[name$='.days']")["value"]) for r in left
    ] == [("step-2", "8")]
    assert "Rows" not in [w.name for w in workflows.list_workflows(admin(demo))]
