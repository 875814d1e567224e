"""Header values from outside (a customer's decoded subject, a failing send) never leave a reply `sending`."""

import base64
import smtplib

from relance.domain.organizations import Principal
from relance.domain.users import Role, UserFields, UserPatch
from relance.mail import ses
from relance.services import replies, users
from relance.services.replies import ReplyFields
from tests.integration import web
from tests.integration.helpers import actions_of, eventually, jump_until, ok, outbox, start_customer


def _reply_task(runtime, customer_id):
    return [a for a in actions_of(runtime, customer_id, "open") if a["type"] == "task" and a["stepId"] == "reply"]


def _customer_writes(runtime, customer_id, payer, subject_bytes):
    reply_address = jump_until(runtime, lambda: outbox(runtime, payer))[0]["replyTo"][0]
    subject = "=?utf-8?b?" + base64.b64encode(subject_bytes).decode() + "?="
    raw = (
        f"From: {payer}\r\nTo: {reply_address}\r\nSubject: {subject}\r\n"
        f"Message-ID: <folded.{customer_id}@customer.example>\r\n\r\nWe paid last week.\r\n"
    ).encode()
    with smtplib.SMTP(runtime.host, runtime.session["smtpPort"], timeout=10) as smtp:
        smtp.sendmail(payer, [reply_address], raw)
    return eventually(lambda: _reply_task(runtime, customer_id), timeout=20, what="a Reply task")[0]


def test_a_customer_subject_decoded_with_line_breaks_is_answered_on_one_line(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    settings = ok(api.get(f"{base}/organization"))["settings"]
    ok(api.put(f"{base}/organization/settings", json={**settings, "handleReplies": True}))
    try:
        customer_id, _ = start_customer(fast, "Folded Subjects", "ap@folded.example", due_days_ago=2)
        task = _customer_writes(fast, customer_id, "ap@folded.example", b"Invoice 12\r\nBcc: thief@evil.example")

        answered = api.post(f"{base}/actions/{task['id']}/reply", json={"body": "Thank you, we will check."})

        assert answered.status_code == 201, answered.text
        mail = next(m for m in outbox(fast, "ap@folded.example") if "we will check" in (m["text"] or ""))
        assert "\n" not in mail["subject"] and "\r" not in mail["subject"]
        assert mail["subject"].startswith("Re: Invoice 12")
        assert all("thief" not in address for address in [*mail["to"], *mail["cc"]])
        assert not outbox(fast, "thief@evil.example")
        assert not actions_of(fast, customer_id, "sending")
    finally:
        ok(api.put(f"{base}/organization/settings", json=settings))


def test_a_reply_that_cannot_be_sent_is_failed_with_its_reason_not_left_sending(fast, monkeypatch):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Unsendable", "ap@unsendable.example", due_days_ago=2)
    reminder = jump_until(fast, lambda: [a for a in actions_of(fast, customer_id, "sent") if a["type"] == "email"])[0]

    def refuse(*_args, **_kwargs):
        raise ValueError("Header values may not contain linefeed or carriage return characters")

    monkeypatch.setattr(ses, "send", refuse)
    answered = api.post(f"{base}/actions/{reminder['id']}/reply", json={"body": "Any news?"})

    assert answered.status_code == 500
    replies = [a for a in actions_of(fast, customer_id) if a["stepId"] == "reply"]
    assert [(a["status"], a["reason"].split(":")[0]) for a in replies] == [("failed", "not sent")]


def test_a_persons_reply_closes_with_their_signature(fast):
    admin = web.admin(fast)
    person = users.create_user(admin, UserFields(email="sam@ar.example", name="Sam Signer", role=Role.ADMIN))
    users.update_user(admin, person.id, UserPatch(signature="Sam Signer\nAccounts receivable, Fast Co"))
    signer = Principal(organization_id=admin.organization_id, role="admin", principal_id=f"user:{person.id}",
                       user_id=person.id)  # fmt: skip
    customer_id, _ = start_customer(fast, "Signed For", "ap@signed.example", due_days_ago=2)
    reminder = jump_until(fast, lambda: [a for a in actions_of(fast, customer_id, "sent") if a["type"] == "email"])[0]

    replies.reply(signer, reminder["id"], ReplyFields(body="Could you confirm the date?"))

    mail = eventually(lambda: [m for m in outbox(fast, "ap@signed.example") if "confirm the date" in (m["text"] or "")])
    assert "Could you confirm the date?\n\nSam Signer\nAccounts receivable, Fast Co" in mail[0]["text"]
    assert "Sam Signer<br>Accounts receivable, Fast Co" in mail[0]["html"]
