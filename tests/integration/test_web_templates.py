"""The email template editor through the local runtime: list, create, edit, duplicate, delete; the
sandboxed live preview for a customer; the test email to oneself."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance.domain.workflows import ActionType, Step, Tone, WorkflowFields
from relance.services import templates, timeline, workflows
from relance.services.templates import EmailTemplate, TemplateFields
from relance.storage import customers as customer_store
from tests.integration.helpers import eventually, outbox
from tests.integration.web import Browser, admin, text_of


def person_of(demo: LocalRuntime, role: str) -> dict[str, Any]:
    return next(u for u in demo.session["users"] if u["role"] == role)


def browser_of(demo: LocalRuntime, role: str) -> Browser:
    person = person_of(demo, role)
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    return browser


def editor_fields(name: str, **sources: str) -> dict[str, str]:
    fields = {"name": name, "language": "en", "tone": "formal", "customer": ""}
    return (
        fields
        | {"subject": "Invoices of {{ customer.name }}", "text": "Dear {{ customer.name }},", "html": ""}
        | sources
    )


def post(browser: Browser, url: str, shown, htmx: bool = False, **fields: Any):
    headers = {"HX-Request": "true"} if htmx else {}
    return browser.post(url, {"csrf": browser.csrf(shown), **fields}, follow=False, headers=headers)


def own(demo: LocalRuntime, name: str) -> EmailTemplate | None:
    return next((t for t in templates.list_templates(admin(demo)) if t.name == name), None)


def make(demo: LocalRuntime, name: str) -> EmailTemplate:
    fields = TemplateFields(name=name, language="en", tone=Tone.FORMAL, subject="Hello", text="Hi", html="<p>Hi</p>")
    return templates.save_template(admin(demo), fields)


def a_customer(demo: LocalRuntime) -> dict[str, Any]:
    org = demo.session["organization"]["id"]
    return min(customer_store.list_customers(org), key=lambda c: c["name"].lower())


def test_an_admin_creates_a_template_from_the_form(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/templates/new")

    forged = browser.post("/templates/new", {"do": "save", **editor_fields("Polite")}, follow=False)
    answer = post(
        browser, "/templates/new", shown, do="save", **editor_fields("Polite", language="fr", tone="informal")
    )

    assert shown.status_code == 200 and forged.status_code == 403
    assert answer.status_code == 303 and answer.headers["Location"] == "/templates"
    created = own(demo, "Polite")
    assert created is not None and (created.language, created.tone) == ("fr", Tone.INFORMAL)
    assert created.subject == "Invoices of {{ customer.name }}"
    assert "{{ customer.name }}" in created.html  # a blank HTML body is the plain one
    listed = BeautifulSoup(browser.get("/templates").text, "html.parser").select_one(f"#template-{created.id}")
    assert listed is not None and "Polite" in listed.text and "French" in listed.text


def test_an_admin_edits_a_template_and_duplicates_it(demo):
    browser = browser_of(demo, "admin")
    template = make(demo, "To edit")
    url = f"/templates/{template.id}"
    shown = browser.get(url)
    assert BeautifulSoup(shown.text, "html.parser").select_one("#f-subject")["value"] == "Hello"

    answer = post(browser, url, shown, do="save", **editor_fields("To edit", subject="Hello {{ customer.name }}"))
    copy = BeautifulSoup(browser.get(f"/templates/new?from={template.id}").text, "html.parser")

    assert answer.status_code == 303
    after = templates.get_template(demo.session["organization"]["id"], template.id)
    assert after.subject == "Hello {{ customer.name }}" and after.text == "Dear {{ customer.name }},"
    assert copy.select_one("#f-name")["value"] == "Copy of To edit"
    assert copy.select_one("#f-subject")["value"] == "Hello {{ customer.name }}"


def test_a_template_that_does_not_compile_is_refused_naming_the_field(demo):
    browser = browser_of(demo, "admin")
    shown = browser.get("/templates/new")

    answer = post(
        browser, "/templates/new", shown, do="save", **editor_fields("Broken", subject="{{ oops", text="{% for %}")
    )

    assert answer.status_code == 422
    soup = BeautifulSoup(answer.text, "html.parser")
    for control in ("f-subject", "f-text"):
        assert "is-invalid" in soup.select_one(f"#{control}")["class"], control
        assert soup.select_one(f"#{control}-error").text.strip()
    assert "Subject:" in soup.select_one(".alert-danger").text and "Body:" in soup.select_one(".alert-danger").text
    assert soup.select_one("#f-text").text == "{% for %}"  # what was typed comes back
    assert own(demo, "Broken") is None


def test_the_preview_renders_the_unsaved_draft_for_the_chosen_customer(demo):
    browser = browser_of(demo, "admin")
    customer = a_customer(demo)
    shown = browser.get("/templates/new")
    options = BeautifulSoup(shown.text, "html.parser").select("#f-customer option[value]")
    assert customer["id"] in [o["value"] for o in options] and len(options) <= 51

    fields = editor_fields(
        "Previewed", customer=customer["id"], text="Dear {{ customer.name }}: {{ totals|join(', ') }}"
    )
    fragment = post(browser, "/templates/new", shown, htmx=True, do="preview", **fields)
    whole = post(browser, "/templates/new", shown, do="preview", **fields)

    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert whole.status_code == 200 and "<html" in whole.text
    for answer in (fragment, whole):
        preview = BeautifulSoup(answer.text, "html.parser").select_one("#template-preview")
        assert f"Invoices of {customer['name']}" in preview.text
        assert f"Dear {customer['name']}:" in preview.select_one("pre").text
    assert own(demo, "Previewed") is None


def test_a_draft_that_fails_to_render_shows_why_beside_the_body(demo):
    browser = browser_of(demo, "admin")
    customer = a_customer(demo)
    shown = browser.get("/templates/new")

    undefined = post(
        browser, "/templates/new", shown, htmx=True, do="preview",
        **editor_fields("Bad", customer=customer["id"], text="{{ nothing.here }}"),
    )  # fmt: skip
    too_big = post(
        browser, "/templates/new", shown, htmx=True, do="preview",
        **editor_fields("Bad", customer=customer["id"], text="{{ 'x' * 100000000 }}"),
    )  # fmt: skip
    no_customer = post(browser, "/templates/new", shown, htmx=True, do="preview", **editor_fields("Bad"))

    assert (undefined.status_code, too_big.status_code, no_customer.status_code) == (422, 422, 422)
    assert "Body" in text_of(undefined) and "nothing" in text_of(undefined)
    assert "Body" in text_of(too_big) and "500000" in text_of(too_big)
    assert "Customer" in text_of(no_customer)


def test_a_test_email_goes_to_the_signed_in_admin_alone(demo):
    me = person_of(demo, "admin")
    browser = browser_of(demo, "admin")
    org = demo.session["organization"]["id"]
    customer = a_customer(demo)
    before = timeline.raw_page(org, f"CUS#{customer['id']}", limit=100)[0]
    sent_before = len(outbox(demo, me["email"]))
    shown = browser.get("/templates/new")

    answer = post(
        browser, "/templates/new", shown, htmx=True, do="test",
        **editor_fields("Tested", customer=customer["id"], subject="Hello {{ customer.name }}"),
    )  # fmt: skip

    assert answer.status_code == 200 and me["email"] in text_of(answer)
    mail = eventually(lambda: outbox(demo, me["email"])[sent_before:], what="the test email in the outbox")
    assert [m["to"] for m in mail] == [[me["email"]]] and mail[0]["cc"] == []
    assert mail[0]["subject"] == f"[Test] Hello {customer['name']}"
    assert f"Dear {customer['name']}," in mail[0]["text"]
    after = customer_store.get_customer(org, customer["id"]) or {}
    assert after.get("lastContactAt") == customer.get("lastContactAt")  # not a contact
    assert timeline.raw_page(org, f"CUS#{customer['id']}", limit=100)[0] == before  # nothing on the timeline
    assert own(demo, "Tested") is None


def test_deleting_a_template_a_workflow_uses_is_refused_naming_the_workflow(demo):
    browser = browser_of(demo, "admin")
    used, unused = make(demo, "In use"), make(demo, "Not in use")
    steps = [Step(id="first", offset_days=2, action=ActionType.EMAIL, template_id=used.id)]
    workflows.create_workflow(admin(demo), WorkflowFields(name="Uses a template", steps=steps))
    shown = browser.get("/templates")

    refused = post(browser, "/templates", shown, do="delete", template=used.id)
    deleted = post(browser, "/templates", shown, do="delete", template=unused.id)

    assert refused.status_code == 409
    row = BeautifulSoup(refused.text, "html.parser").select_one(f"#template-{used.id} .alert")
    assert row is not None and "Uses a template" in row.text
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/templates"
    assert own(demo, "In use") is not None and own(demo, "Not in use") is None


def test_an_account_manager_reads_the_list_but_cannot_edit(demo):
    browser = browser_of(demo, "account_manager")
    template = make(demo, "Admins only")
    shown = browser.get("/templates")
    soup = BeautifulSoup(shown.text, "html.parser")

    editor = browser.get(f"/templates/{template.id}")
    new = browser.get("/templates/new")
    saving = post(browser, f"/templates/{template.id}", shown, do="save", **editor_fields("Mine"))
    testing = post(
        browser, "/templates/new", shown, do="test", **editor_fields("Mine", customer=a_customer(demo)["id"])
    )
    deleting = post(browser, "/templates", shown, do="delete", template=template.id)

    assert shown.status_code == 200 and f"template-{template.id}" in shown.text
    assert not soup.find("a", href="/templates/new") and not soup.find("a", href=f"/templates/{template.id}")
    assert (editor.status_code, new.status_code, saving.status_code, testing.status_code) == (403, 403, 403, 403)
    assert deleting.status_code == 403
    assert templates.get_template(demo.session["organization"]["id"], template.id) == template


def test_the_workflows_page_links_to_the_templates(demo):
    browser = browser_of(demo, "account_manager")

    soup = BeautifulSoup(browser.get("/workflows").text, "html.parser")

    assert soup.find("a", href="/templates", string="Email templates")
