"""`python -m local serve` as a user runs it: over HTTP, in headless Chromium, then Ctrl-C."""

from __future__ import annotations

import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    port: int
    printed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # What it prints is read as it comes: a pipe nobody reads fills up (64 KiB of log lines, a few
        # minutes of the sync schedule's on the fast clock) and then blocks the app at its next line.
        self._reader = threading.Thread(target=self._read, name="served-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        if self.process.stdout is not None:
            self.printed.extend(self.process.stdout)

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as a user would; returns the exit code and everything it printed."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=120)  # a busy machine: the threads end in turn
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.printed.append("\n(killed: it had not stopped 120 s after Ctrl-C)")
        self._reader.join(timeout=30)
        return self.process.returncode, "".join(self.printed)


def serve(*args: str) -> Served:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "local", "serve", "--port", str(port), "--smtp-port", "0", "--stop-with-parent", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{process.stdout.read() if process.stdout else ''}")
        try:
            if requests.get(f"{base_url}/health", timeout=1).status_code == 200:
                return Served(process, base_url, port)
        except requests.RequestException:  # bound but still seeding: the request waits
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("/health did not answer 200 within 60 s")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    started = serve("--time-scale", "8640")
    yield started
    code, output = started.stop()  # with the demo's executions still waiting
    assert code == 0, output[-2000:]
    assert port_is_free(started.port)


def test_session_file_tells_how_to_use_the_system(served):
    session = json.loads((ROOT / ".local" / "session.json").read_text())

    assert session["baseUrl"] == served.base_url
    assert session["apiKey"].startswith("rk_org_")
    assert sorted(u["role"] for u in session["users"]) == ["account_manager", "account_manager", "admin"]
    assert "smtpPort" in session
    me = requests.get(f"{served.base_url}/v1/me", headers={"X-Api-Key": session["apiKey"]})
    assert me.json()["organization"]["name"] == "Demo Trading Ltd"


def test_clock_runs_fast_and_jumps(served):
    first = requests.get(f"{served.base_url}/dev/clock").json()
    # The clock flows, but holds still while the reminders of a moment go out: it moves on soon after.
    second = wait_for(lambda: (c := requests.get(f"{served.base_url}/dev/clock").json())["now"] > first["now"] and c)
    jumped = requests.post(f"{served.base_url}/dev/clock", json={"advanceDays": 2}, timeout=300).json()

    assert second and second["timeScale"] == 8640
    assert jumped["now"][:10] > second["now"][:10]


def wait_for(check, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return result


@pytest.mark.timeout(600)
def test_demo_reminders_reach_the_outbox_spaced_and_payment_stops_them(served):
    session = json.loads((ROOT / ".local" / "session.json").read_text())
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    base = f"{served.base_url}/v1"

    def outbox() -> list[dict]:
        return requests.get(f"{served.base_url}/dev/outbox").json()

    def by_recipient() -> dict[str, list[dict]]:
        sent: dict[str, list[dict]] = {}
        for message in outbox():
            sent.setdefault(message["to"][0], []).append(message)
        return sent

    assert wait_for(lambda: len(outbox()) >= 3, timeout=120), "the demo sent no reminders"
    # Past every minimum delay; the jump answers once everything due inside it has happened.
    jumped = requests.post(f"{served.base_url}/dev/clock", json={"advanceDays": 8}, timeout=300)
    assert jumped.status_code == 200, jumped.text
    contacts = {
        c["email"]: c["customerId"]
        for customer in api.get(f"{base}/customers", params={"limit": 200}).json()["items"]
        for c in api.get(f"{base}/customers/{customer['id']}/contacts").json()["items"]
    }
    # the customers' reminders (the team's own mail, such as a Monday's weekly digest, aside)
    twice = {to: m for to, m in by_recipient().items() if len(m) >= 2 and to in contacts}
    assert twice, "no demo customer got a second reminder"
    for messages in twice.values():
        times = [datetime.fromisoformat(m["sentAt"]) for m in messages]
        assert all(b - a >= timedelta(days=5) for a, b in itertools.pairwise(times))  # Firm: 5 days

    recipient = next(iter(twice))
    customer_id = contacts[recipient]
    for invoice in api.get(f"{base}/invoices", params={"customerId": customer_id, "status": "open"}).json()["items"]:
        api.post(
            f"{base}/payments",
            json={
                "customerId": customer_id,
                "amount": invoice["outstanding"],
                "currency": invoice["currency"],
                "receivedAt": jumped.json()["now"][:10],
                "allocations": [{"invoiceId": invoice["id"], "amount": invoice["outstanding"]}],
            },
        )
    before = len(by_recipient()[recipient])
    assert requests.post(f"{served.base_url}/dev/clock", json={"advanceDays": 30}, timeout=300).status_code == 200
    assert len(by_recipient()[recipient]) == before


def test_a_new_user_finds_the_key_and_the_api_docs_in_a_browser(served, tmp_path):
    session = json.loads((ROOT / ".local" / "session.json").read_text())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()

        page.goto(f"{served.base_url}/dev")
        assert page.locator("#api-key").inner_text() == session["apiKey"]

        page.get_by_role("link", name="API documentation").click()
        page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
        assert "Relance API" in page.locator(".swagger-ui .info .title").inner_text()
        assert page.locator(".opblock-summary-path", has_text="/v1/me").count() == 1
        page.screenshot(path=str(tmp_path / "docs.png"))
        browser.close()


def test_a_demo_account_manager_logs_in_from_the_dev_page(served):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served.base_url}/dev/login")

        page.get_by_role("button", name="API token for Marc Dubois").click()

        assert "Marc Dubois" in page.locator("#signed-in").inner_text()
        token = page.locator("#id-token").inner_text().removeprefix("Authorization: Bearer ")
        browser.close()
    customers = requests.get(f"{served.base_url}/v1/customers", headers={"Authorization": f"Bearer {token}"}).json()
    assert 0 < len(customers["items"]) < 50


@pytest.mark.timeout(300)
def test_a_customer_pays_two_invoices_from_a_reminder_and_the_next_reminder_leaves_them_out(served, tmp_path):
    session = json.loads((ROOT / ".local" / "session.json").read_text())
    api = requests.Session()
    api.headers["X-Api-Key"] = session["apiKey"]
    base = f"{served.base_url}/v1"
    email = "ap@portal-payer.example"
    today = datetime.fromisoformat(requests.get(f"{served.base_url}/dev/clock").json()["now"]).date()
    standard = next(w["id"] for w in api.get(f"{base}/workflows").json()["items"] if w["name"] == "Standard")
    customer = api.post(f"{base}/customers", json={"name": "Portal Payer Inc", "currency": "USD"}).json()
    api.post(f"{base}/customers/{customer['id']}/contacts", json={"email": email, "firstName": "Alex"})
    invoices = [
        api.post(
            f"{base}/invoices",
            json={
                "customerId": customer["id"],
                "number": f"PP-{days}",
                "currency": "USD",
                "amount": 10_000 * days,
                "issuedAt": str(today - timedelta(days=30)),
                "dueAt": str(today - timedelta(days=days)),
            },
        ).json()
        for days in (4, 3, 2)
    ]
    api.patch(f"{base}/customers/{customer['id']}", json={"dunningPlanId": standard})

    def reminders() -> list[dict]:
        return [m for m in requests.get(f"{served.base_url}/dev/outbox").json() if email in m["to"]]

    first = wait_for(reminders, timeout=90)
    assert first, "no reminder reached the outbox"
    link = re.search(r"http://\S+/portal/pt_\S+", first[0]["text"])
    assert link is not None, first[0]["text"]
    paid = invoices[:2]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(link.group(0))
        assert "Portal Payer Inc" in page.content()
        for invoice in paid:
            page.check(f"#select-{invoice['id']}")
        page.click("#pay")
        page.wait_for_selector("#total")
        assert "$700.00" in page.locator("#total").inner_text()  # 400.00 + 300.00
        page.check("input[name=method][value=card]")
        page.click("#pay")
        page.wait_for_selector("#notice")
        assert "payment is received" in page.locator("#notice").inner_text()
        for invoice in paid:
            assert page.locator(f"#paid-{invoice['id']}").count() == 1
            assert page.locator(f"#select-{invoice['id']}").count() == 0
        assert page.locator(f"#select-{invoices[2]['id']}").count() == 1
        page.screenshot(path=str(tmp_path / "portal-paid.png"), full_page=True)
        browser.close()

    requests.post(f"{served.base_url}/dev/clock", json={"advanceDays": 10})  # the next step is due
    later = wait_for(lambda: reminders()[len(first) :], timeout=120)
    assert later, "no next reminder"
    assert re.search(r"\bPP-2\b", later[0]["text"])
    for invoice in paid:
        assert not re.search(rf"\b{invoice['number']}\b", later[0]["text"])


@pytest.mark.timeout(360)  # the last of the module: the demo's served app (the fixture) stops after it too
def test_no_demo_starts_one_empty_organization_and_ctrl_c_stops_cleanly():
    served = serve("--no-demo")
    session = json.loads((ROOT / ".local" / "session.json").read_text())
    me = requests.get(f"{served.base_url}/v1/me", headers={"X-Api-Key": session["apiKey"]})
    assert me.json()["organization"]["name"] == "My Organization"

    code, output = served.stop()

    assert code == 0, output
    assert "Stopped." in output
    assert port_is_free(served.port)
