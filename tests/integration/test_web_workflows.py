"""The workflows list through the local runtime: each workflow with its steps."""

from __future__ import annotations

from bs4 import BeautifulSoup

from relance.domain.organizations import Principal
from relance.services import workflows
from tests.integration.web import Browser


def test_the_workflows_are_listed_with_their_steps(demo):
    person = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    org = demo.session["organization"]["id"]
    known = workflows.list_workflows(Principal(organization_id=org, role="admin", principal_id="test"))

    page = browser.get("/workflows")

    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    for workflow in known:
        section = soup.select_one(f"#workflow-{workflow.id}")
        assert workflow.name in section.h2.text
        assert len(section.select("tbody tr")) == max(1, len(workflow.steps))
    assert soup.find("a", href="/workflows", attrs={"aria-current": "page"})
