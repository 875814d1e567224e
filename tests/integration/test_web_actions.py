"""The collector's queue through the local runtime: my open tasks and calls (the customer owing most
overdue first), completed with a note or skipped with a reason; all actions filtered by status and type."""

from __future__ import annotations

from bs4 import BeautifulSoup

from local.runtime import LocalRuntime
from relance import clock
from relance.domain.organizations import Principal
from relance.services import actions, customers, notifications, users
from relance.services.actions import ManualAction, ManualType
from relance.services.customers import CustomerFilter
from relance.storage import actions as action_store
from tests.integration.web import Browser, admin, text_of


def manager_of(demo: LocalRuntime) -> tuple[Browser, Principal]:
    person = next(u for u in demo.session["users"] if u["role"] == "account_manager")
    browser = Browser(demo.base_url)
    browser.sign_in(person["email"], person["password"])
    user_id = next(u.id for u in users.list_users(admin(demo)) if u.email == person["email"])
    org = admin(demo).organization_id
    return browser, Principal(organization_id=org, role="account_manager", principal_id=user_id, user_id=user_id)


def rows(page) -> list:
    return BeautifulSoup(page.text, "html.parser").select("#results tbody tr[id^=action-]")


def post(browser: Browser, url: str, page, **fields):
    return browser.post(url, {"csrf": browser.csrf(page), **fields})


def test_my_calls_and_tasks_are_done_with_a_note_or_skipped_with_a_reason(demo):
    browser, me = manager_of(demo)
    everyone = customers.matching_customers(admin(demo), CustomerFilter())
    mine = [c for c in everyone if me.user_id in c.account_manager_ids]
    call = actions.create_manual(me, ManualAction(customer_id=mine[0].id, type=ManualType.CALL, note="Chase INV"))
    task = actions.create_manual(me, ManualAction(customer_id=mine[-1].id, type=ManualType.TASK, note="Send statement"))

    page = browser.get("/actions")
    shown = {r["id"] for r in rows(page)}
    calls_only = browser.get("/actions?type=call")

    assert page.status_code == 200 and {f"action-{call['id']}", f"action-{task['id']}"} <= shown
    assert all("Call" in r.text for r in rows(calls_only))
    refused = post(browser, "/actions", page, do="skip", action=task["id"], note="")
    assert refused.status_code == 422 and "say why" in text_of(refused)
    logged = post(browser, "/actions", page, do="complete", action=call["id"], note="They pay Friday")
    skipped = post(browser, "/actions", page, do="skip", action=task["id"], note="Sent by the CFO already")
    assert logged.status_code == 200 and skipped.status_code == 200
    left = {r["id"] for r in rows(skipped)}
    assert f"action-{call['id']}" not in left and f"action-{task['id']}" not in left
    timeline = browser.get(f"/customers/{mine[0].id}")
    assert "They pay Friday" in text_of(timeline)


def test_all_actions_filter_by_status_and_a_failure_says_why(demo):
    browser, me = manager_of(demo)
    theirs = {c.id for c in customers.matching_customers(me, CustomerFilter())}
    boss = Browser(demo.base_url)
    who = next(u for u in demo.session["users"] if u["role"] == "admin")
    boss.sign_in(who["email"], who["password"])

    everything = boss.get("/actions?tab=all")
    sent = boss.get("/actions?tab=all&status=sent")
    failed = boss.get("/actions?tab=all&status=failed", headers={"HX-Request": "true"})

    assert everything.status_code == 200 and rows(everything)
    assert all("Sent" in r.select_one("td:nth-of-type(4)").text for r in rows(sent))
    assert failed.status_code == 200 and "<html" not in failed.text  # htmx: the results alone
    for row in BeautifulSoup(failed.text, "html.parser").select("tr[id^=action-]"):
        assert "Failed" in row.text and row.select_one(".text-danger").text.strip()
    assert boss.get("/actions?tab=all&status=nonsense").status_code == 422
    seen = BeautifulSoup(browser.get("/actions?tab=all").text, "html.parser").select("tbody a[href^='/customers/']")
    assert seen and {a["href"].split("/")[-1] for a in seen} <= theirs  # an account manager: their customers only


def test_a_failed_action_links_to_its_fix(demo):
    org = admin(demo).organization_id
    customer = customers.matching_customers(admin(demo), CustomerFilter())[0]
    now = clock.now().isoformat()
    for action_id, reason in (
        ("act_webfixcontact", "no valid contact to write to"),
        ("act_webfixsender", "the organization has no sender address"),
    ):
        action_store.create_if_absent(
            org,
            {
                "id": action_id,
                "customerId": customer.id,
                "stepId": "s1",
                "type": "email",
                "status": "failed",
                "scheduledAt": now,
                "invoiceIds": [],
                "reason": reason,
            },
        )
    boss = Browser(demo.base_url)
    who = next(u for u in demo.session["users"] if u["role"] == "admin")
    boss.sign_in(who["email"], who["password"])

    failed = BeautifulSoup(boss.get("/actions?tab=all&status=failed").text, "html.parser")

    contact = failed.select_one("#action-act_webfixcontact")
    sender = failed.select_one("#action-act_webfixsender")
    assert contact.find("a", href=f"/customers/{customer.id}#contacts")
    assert sender.find("a", href="/settings#sender") and "no sender address" in sender.text


def test_a_task_is_reassigned_to_an_admin_who_is_told_and_the_queue_filters_and_orders(demo):
    browser, me = manager_of(demo)
    people = users.list_users(admin(demo))
    boss = next(u for u in people if u.role == "admin")
    everyone = customers.matching_customers(admin(demo), CustomerFilter())
    mine = [c for c in everyone if me.user_id in c.account_manager_ids and c.dunning_plan_id]
    task = actions.create_manual(me, ManualAction(customer_id=mine[0].id, type=ManualType.TASK, note="Statement"))
    later = actions.create_manual(me, ManualAction(customer_id=mine[-1].id, type=ManualType.CALL, note="Ask for PO"))
    workflow = mine[0].dunning_plan_id
    under = {f"/customers/{c.id}" for c in everyone if c.dunning_plan_id == workflow}

    page = browser.get("/actions?order=due")
    choices = {o["value"] for o in BeautifulSoup(page.text, "html.parser").select(f"#owner-{task['id']} option")}
    filtered = browser.get(f"/actions?workflow={workflow}")
    handed = post(browser, "/actions?order=due", page, do="reassign", action=task["id"], owner=boss.id)
    refused = post(browser, "/actions", page, do="reassign", action=later["id"], owner="usr_nobody")

    takers = {u.id for u in people if u.role == "admin" or u.id in mine[0].account_manager_ids} - {me.user_id}
    assert choices == takers  # only people who see the customer, not the person it is with
    order = [r["id"][len("action-") :] for r in rows(page)]
    when = {i: str(action_store.get_action(me.organization_id, i)["scheduledAt"]) for i in order}
    assert order == sorted(order, key=lambda i: (when[i], i))
    assert f"action-{task['id']}" in {r["id"] for r in rows(filtered)}
    assert {r.find("a")["href"] for r in rows(filtered)} <= under
    assert handed.status_code == 200 and f"action-{task['id']}" not in {r["id"] for r in rows(handed)}
    assert action_store.get_action(me.organization_id, task["id"])["owner"] == boss.id
    assert refused.status_code == 422 and "owner" in refused.text
    theirs = Principal(organization_id=me.organization_id, role="admin", principal_id=boss.id, user_id=boss.id)
    told = notifications.list_notifications(theirs)["items"]
    assert any(n["kind"] == "assigned" and n["about"] == task["id"] for n in told)
    assert "Reassigned" in text_of(browser.get(f"/customers/{mine[0].id}"))
    assert browser.get("/actions?order=sideways").status_code == 422
