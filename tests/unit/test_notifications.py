"""Slack notifications go through slack_sdk's incoming webhook client (here to a loopback Slack)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from relance.domain.slack import slack_text
from relance.services.notifications import post_to_slack


@pytest.fixture
def slack():
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        status = 200

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(Hook.status)
            self.end_headers()
            self.wfile.write(b"ok" if Hook.status == 200 else b"invalid_token")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/services/T0/B0/secret", received, Hook
    server.shutdown()


def test_a_notification_is_posted_as_text(slack):
    url, received, _ = slack

    assert post_to_slack(url, "Pat (Acme) replied: Re: invoice") is True
    assert [r["text"] for r in received] == ["Pat (Acme) replied: Re: invoice"]


def test_a_hostile_subject_reaches_slack_escaped_without_mentions_or_disguised_links(slack):
    url, received, _ = slack

    posted = post_to_slack(url, "Pat (Acme) replied: <!channel> pay now <http://evil.example|Your bank> & @here")

    assert posted is True
    [message] = received
    assert message["text"] == (
        "Pat (Acme) replied: &lt;!channel&gt; pay now &lt;http://evil.example|Your bank&gt; &amp; @\u200bhere"
    )
    assert message["unfurl_links"] is False and message["unfurl_media"] is False


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("<@U024BE7LH> <!here> <!subteam^SAZ94GDB8>", "&lt;@U024BE7LH&gt; &lt;!here&gt; &lt;!subteam^SAZ94GDB8&gt;"),
        ("&lt; already escaped", "&amp;lt; already escaped"),
        ("@Channel @everyone mail@here.example", "@\u200bChannel @\u200beveryone mail@here.example"),
        ("Café *bold* `code`", "Café *bold* `code`"),
    ],
)
def test_slack_text_escapes_what_slack_reads_as_markup(written, shown):
    assert slack_text(written) == shown


def test_a_refusal_or_an_unreachable_slack_is_reported_not_raised(slack):
    url, _, hook = slack
    hook.status = 403

    assert post_to_slack(url, "x") is False
    assert post_to_slack("http://127.0.0.1:9/closed", "x") is False


def test_only_the_user_and_admins_see_a_slack_webhook():
    from datetime import UTC, datetime

    from relance.domain.organizations import Principal
    from relance.domain.users import User
    from relance.services.users import _as_seen_by

    user = User(
        id="usr_1",
        email="a@b.example",
        name="A B",
        initials="AB",
        role="account_manager",
        notification_channels=["slack"],
        slack_webhook_url="https://hooks.slack.com/services/T/B/secret",
        created_at=datetime.now(UTC),
    )

    def seen_by(role, user_id):
        viewer = Principal(organization_id="org_1", role=role, principal_id=user_id, user_id=user_id)
        return _as_seen_by(viewer, user).slack_webhook_url

    assert seen_by("account_manager", "usr_1") and seen_by("admin", "usr_9")
    assert seen_by("account_manager", "usr_2") is None
