"""The mail loop through the local runtime: bounces, customer replies over SMTP, notes, timelines."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

import pytest
import requests

from relance import aws
from tests.integration.helpers import eventually, jump_until, outbox, pay, start_customer

PDF = b"%PDF-1.4\n% a small test file\n%%EOF\n"


def send_mail(runtime, *, sender: str, to: str, subject: str, text: str, headers=None, attachment=None) -> None:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if attachment:
        message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
    with smtplib.SMTP(runtime.host, runtime.session["smtpPort"], timeout=10) as smtp:
        smtp.send_message(message)


def inbound_address(runtime) -> str:
    """The organization's own inbound address: mail sent there is for it."""
    return runtime.api_session.get(f"{runtime.base_url}/v1/organization").json()["inboundAddress"]


def timeline(runtime, customer_id: str, **params) -> list[dict]:
    answer = runtime.api_session.get(f"{runtime.base_url}/v1/customers/{customer_id}/timeline", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def new_user(runtime, email: str, name: str, role: str = "account_manager") -> dict:
    created = runtime.api_session.post(
        f"{runtime.base_url}/v1/users",
        json={"email": email, "name": name, "role": role, "notificationChannels": ["in_app", "email"]},
    )
    assert created.status_code == 201, created.text
    return created.json()


def notifications_of(runtime, user_id: str) -> dict:
    from relance.domain.organizations import Principal
    from relance.services.notifications import list_notifications

    me = Principal(
        organization_id=runtime.session["organization"]["id"],
        role="account_manager",
        principal_id=user_id,
        user_id=user_id,
    )
    return list_notifications(me)


def test_mark_valid_then_a_second_bounce_invalidates_again(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Twice Bounced", "bounce@simulator.amazonses.com", due_days_ago=2)

    def invalid_contact():
        contacts = api.get(f"{base}/customers/{customer_id}/contacts").json()["items"]
        return next((c for c in contacts if c["invalid"]), None)

    first = jump_until(fast, invalid_contact)
    assert first is not None
    assert api.post(f"{base}/contacts/{first['id']}/mark-valid").json()["invalid"] is False
    assert "contact_validated" in [e.get("event") for e in timeline(fast, customer_id)]

    sent = api.post(f"{base}/actions", json={"customerId": customer_id, "type": "email"})  # an email now
    assert sent.status_code == 201, sent.text
    second = eventually(invalid_contact, timeout=30)

    assert second is not None and second["invalidSince"] > first["invalidSince"]
    invalidated = [e for e in timeline(fast, customer_id) if e.get("event") == "contact_invalidated"]
    assert len(invalidated) == 2


def test_a_reply_over_smtp_lands_on_the_customer_timeline_with_its_attachment(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    manager = new_user(fast, "am.replies@relance.example", "Rita Replies")
    customer_id, _ = start_customer(fast, "Answering Ltd", "pay@answering.example", due_days_ago=2)
    api.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [manager["id"]]})
    reminder = jump_until(fast, lambda: outbox(fast, "pay@answering.example"))[0]

    send_mail(
        fast,
        sender="Pat Payer <pay@answering.example>",
        to=reminder["replyTo"][0],
        subject=f"Re: {reminder['subject']}",
        text="We paid yesterday, remittance attached.\n\nPat\n\nOn Mon, Relance AR wrote:\n> Dear customer,\n> pay.\n",
        headers={"In-Reply-To": reminder["messageId"]},
        attachment=("remittance.pdf", PDF),
    )

    def reply_in():
        return [e for e in timeline(fast, customer_id) if e["kind"] == "reply_in"]

    entry = eventually(reply_in, timeout=20)[0]
    assert entry["text"].startswith("We paid yesterday, remittance attached.")
    assert "Dear customer" not in entry["text"]  # the quoted history is stripped
    assert entry["matchedBy"] == "reply_address" and entry["from"] == "pay@answering.example"
    assert entry["invoiceIds"]  # on the invoices the reminder was about, too
    [file] = entry["attachments"]
    assert file["name"] == "remittance.pdf" and file["size"] == len(PDF)
    assert requests.get(file["url"], timeout=10).content == PDF
    invoice_timeline = api.get(f"{base}/invoices/{entry['invoiceIds'][0]}/timeline").json()["items"]
    assert any(e["id"] == entry["id"] for e in invoice_timeline)
    told = eventually(lambda: notifications_of(fast, manager["id"])["items"], timeout=10)
    assert any(n["kind"] == "reply_in" and n["customerId"] == customer_id for n in told)
    assert any(m["to"] == ["am.replies@relance.example"] for m in requests.get(f"{fast.base_url}/dev/outbox").json())


def test_a_reply_without_our_address_is_matched_by_its_sender(fast):
    customer_id, _ = start_customer(fast, "Direct Writers", "boss@direct.example", due_days_ago=2)

    send_mail(
        fast, sender="boss@direct.example", to=inbound_address(fast), subject="About our account", text="Call me."
    )

    entry = eventually(lambda: [e for e in timeline(fast, customer_id) if e["kind"] == "reply_in"], timeout=20)[0]
    assert entry["matchedBy"] == "sender" and entry["text"] == "Call me."


def test_an_unmatched_reply_is_kept_until_someone_assigns_it(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, _ = start_customer(fast, "Assigned Later", "ap@assigned.example", due_days_ago=2)

    send_mail(
        fast,
        sender="stranger@elsewhere.example",
        to=inbound_address(fast),
        subject="Invoice question",
        text="Which invoice is this?",
    )

    def unmatched():
        items = api.get(f"{base}/replies/unmatched").json()["items"]
        return [r for r in items if r["from"] == "stranger@elsewhere.example"]

    reply = eventually(unmatched, timeout=20)[0]
    assert reply["status"] == "unmatched" and reply["text"] == "Which invoice is this?"
    assigned = api.post(f"{base}/replies/{reply['id']}/assign", json={"customerId": customer_id})
    assert assigned.status_code == 200, assigned.text
    assert not unmatched()
    assert any(e["id"] == reply["id"] and e["kind"] == "reply_in" for e in timeline(fast, customer_id))
    again = api.post(f"{base}/replies/{reply['id']}/assign", json={"customerId": customer_id})
    assert again.status_code == 409


def test_with_handle_replies_a_reply_opens_a_task_that_holds_dunning_until_answered(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    settings = api.get(f"{base}/organization").json()["settings"]
    api.put(f"{base}/organization/settings", json={**settings, "handleReplies": True})
    try:
        customer_id, _ = start_customer(fast, "Task Holders", "ap@holders.example", due_days_ago=2)
        reminder = jump_until(fast, lambda: outbox(fast, "ap@holders.example"))[0]
        send_mail(
            fast,
            sender="ap@holders.example",
            to=reminder["replyTo"][0],
            subject="Re: reminder",
            text="We dispute the amount.",
        )

        def reply_task():
            actions = api.get(f"{base}/customers/{customer_id}/actions").json()["items"]
            return [a for a in actions if a["type"] == "task" and a["stepId"] == "reply" and a["status"] == "open"]

        task = eventually(reply_task, timeout=20)[0]
        forecast = api.get(f"{base}/actions/forecast", params={"days": 60}).json()["items"]
        assert not [e for e in forecast if e["customerId"] == customer_id]  # held by the task

        answered = api.post(f"{base}/actions/{task['id']}/reply", json={"body": "Let us check and call you."})

        assert answered.status_code == 201, answered.text
        mail = next(m for m in outbox(fast, "ap@holders.example") if "Let us check" in m["text"])
        assert "> We dispute the amount." in mail["text"]
        closed = next(
            a for a in api.get(f"{base}/customers/{customer_id}/actions").json()["items"] if a["id"] == task["id"]
        )
        assert closed["status"] == "done"
    finally:
        api.put(f"{base}/organization/settings", json=settings)


def test_notes_mention_people_pin_and_take_files_up_to_their_limits(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    mentioned = new_user(fast, "am.mentioned@relance.example", "Mona Mention")
    customer_id, invoice_id = start_customer(fast, "Noted SA", "ap@noted.example", due_days_ago=2)
    api.patch(f"{base}/customers/{customer_id}", json={"accountManagerIds": [mentioned["id"]]})  # she sees it

    created = api.post(
        f"{base}/customers/{customer_id}/notes",
        json={
            "body": f"@{mentioned['id']} please call them about the dispute",
            "invoiceIds": [invoice_id],
            "pinned": True,
            "attachments": [{"filename": "call notes.txt", "contentType": "text/plain", "size": 11}],
        },
    )

    assert created.status_code == 201, created.text
    note = created.json()
    assert note["mentions"] == [mentioned["id"]]
    [upload] = note["uploads"]
    stored = requests.post(upload["url"], data=upload["fields"], files={"file": ("call notes.txt", b"hello world")})
    assert stored.status_code in (200, 204), stored.text
    told = notifications_of(fast, mentioned["id"])["items"]
    assert [n["noteId"] for n in told if n["kind"] == "mention"] == [note["id"]]
    summary = api.get(f"{base}/customers/{customer_id}").json()
    assert [n["id"] for n in summary["pinnedNotes"]] == [note["id"]]
    entry = next(e for e in timeline(fast, customer_id) if e["id"] == note["id"])
    assert entry["kind"] == "note" and requests.get(entry["attachments"][0]["url"]).content == b"hello world"
    assert any(e["id"] == note["id"] for e in api.get(f"{base}/invoices/{invoice_id}/timeline").json()["items"])

    unpinned = api.patch(f"{base}/notes/{note['id']}", json={"pinned": False})
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert api.get(f"{base}/customers/{customer_id}").json()["pinnedNotes"] == []

    too_many = api.post(
        f"{base}/customers/{customer_id}/notes",
        json={"body": "files", "attachments": [{"filename": f"{i}.pdf", "size": 10} for i in range(26)]},
    )
    assert too_many.status_code == 422 and "attachments" in too_many.json()["error"]["fields"]
    too_big = api.post(
        f"{base}/customers/{customer_id}/notes",
        json={
            "body": "files",
            "attachments": [{"filename": "a.pdf", "size": 8_000_000}, {"filename": "b.pdf", "size": 8_000_000}],
        },
    )
    assert too_big.status_code == 413 and "15 MB" in too_big.json()["error"]["message"]
    more = api.post(f"{base}/notes/{note['id']}/attachments", json={"filename": "big.pdf", "size": 15 * 1024 * 1024})
    assert more.status_code == 413 and "attachments" in more.json()["error"]["fields"]
    unknown = api.post(f"{base}/customers/{customer_id}/notes", json={"body": "@usr_00000000000000000000000000 hi"})
    assert unknown.status_code == 422 and "body" in unknown.json()["error"]["fields"]


def test_timeline_pages_newest_first_with_payments_and_owners(fast):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    customer_id, invoice_id = start_customer(fast, "Paged Timeline", "ap@paged.example", due_days_ago=20)
    for text in ("first", "second", "third"):
        api.post(f"{base}/customers/{customer_id}/notes", json={"body": text})
    paid = pay(fast, customer_id, invoice_id, 20000)
    assert paid.status_code == 201, paid.text

    seen, cursor = [], None
    while True:
        answer = api.get(
            f"{base}/customers/{customer_id}/timeline", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        page = answer.json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["nextCursor"]
        if not cursor:
            break

    assert len({e["id"] for e in seen}) == len(seen) >= 5
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    payment = next(e for e in seen if e["kind"] == "payment")
    assert payment["allocations"] == [
        {
            "invoiceId": invoice_id,
            "number": "Pag-1",
            "amount": 20000,
            "dueAt": payment["allocations"][0]["dueAt"],
            "outstanding": 30000,
            "status": "open",
        }
    ]
    assert [e["body"] for e in seen if e["kind"] == "note"] == ["third", "second", "first"]
    bad = api.get(f"{base}/customers/{customer_id}/timeline", params={"cursor": "bm90IG91cnM="})
    assert bad.status_code == 422 and "cursor" in bad.json()["error"]["fields"]


@pytest.mark.parametrize("limit", [0, 201])
def test_timeline_limit_is_bounded(fast, limit):
    customer_id, _ = start_customer(fast, f"Bounded {limit}", f"ap{limit}@bounded.example")
    answer = fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/timeline", params={"limit": limit})
    assert answer.status_code in (400, 422) and "limit" in answer.text


def test_the_handler_takes_the_sample_event_once_even_when_delivered_twice(fast, sample_event):
    api, base = fast.api_session, f"{fast.base_url}/v1"
    event = sample_event("inbound_mail/sqs-ses-received.json")
    envelope = json.loads(event["Records"][0]["body"])
    notification = json.loads(envelope["Message"])
    stored = notification["receipt"]["action"]
    stored["bucketName"] = fast.template.name_of("InboundMailBucket")
    notification["receipt"]["recipients"] = [inbound_address(fast)]  # to this runtime's organization
    envelope["Message"] = json.dumps(notification)
    event["Records"][0]["body"] = json.dumps(envelope)
    raw = (
        b"From: Sample Sender <sample.sender@unknown.example>\r\nTo: ar@replies.relance.local\r\n"
        b"Subject: Sample\r\nMessage-ID: <sample@unknown.example>\r\n\r\nA sample reply.\r\n"
    )
    aws.client("s3").put_object(Bucket=stored["bucketName"], Key=stored["objectKey"], Body=raw)

    first = fast.functions["InboundMailFunction"].invoke(event)
    second = fast.functions["InboundMailFunction"].invoke(event)  # SQS delivers at least once

    assert first == second == {"batchItemFailures": []}
    kept = [
        r for r in api.get(f"{base}/replies/unmatched").json()["items"] if r["from"] == "sample.sender@unknown.example"
    ]
    assert len(kept) == 1 and kept[0]["text"] == "A sample reply."


def send_raw(runtime, *, sender: str, to: str, raw: bytes) -> None:
    with smtplib.SMTP(runtime.host, runtime.session["smtpPort"], timeout=10) as smtp:
        smtp.sendmail(sender, [to], raw)


def test_poison_replies_land_cut_to_size_and_decoded_with_a_link_to_the_raw_message(fast):
    customer_id, _ = start_customer(fast, "Poison Pens", "ap@poison.example", due_days_ago=2)
    reply_address = jump_until(fast, lambda: outbox(fast, "ap@poison.example"))[0]["replyTo"][0]
    long_reply = "請求書の支払いについて。" * 20_000  # 720 KB of UTF-8: over DynamoDB's 400 KB item limit

    send_mail(fast, sender="ap@poison.example", to=reply_address, subject="Re: 請求書", text=long_reply)
    send_raw(
        fast,
        sender="ap@poison.example",
        to=reply_address,
        raw=b"From: ap@poison.example\r\nTo: " + reply_address.encode() + b"\r\nSubject: Odd charset\r\n"
        b"Content-Type: text/plain; charset=x-unknown-9\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Paid caf\xe9 invoice 12.\r\n",
    )

    def both_replies():
        entries = {e["subject"]: e for e in timeline(fast, customer_id) if e["kind"] == "reply_in"}
        return entries if len(entries) == 2 else None

    entries = eventually(both_replies, timeout=30, what="both poison replies on the timeline")
    long_entry, odd_entry = entries["Re: 請求書"], entries["Odd charset"]
    assert long_entry["truncated"] is True and long_reply.startswith(long_entry["text"])
    assert 60 * 1024 < len(long_entry["text"].encode()) <= 64 * 1024
    raw = requests.get(long_entry["rawUrl"], timeout=10)
    assert raw.status_code == 200
    from email import message_from_bytes, policy

    assert message_from_bytes(raw.content, policy=policy.default).get_content().strip() == long_reply  # all of it
    assert odd_entry["text"] == "Paid caf\ufffd invoice 12." and not odd_entry.get("truncated")
    assert requests.get(odd_entry["rawUrl"], timeout=10).content.endswith(b"Paid caf\xe9 invoice 12.\r\n")
    reply = fast.api_session.get(f"{fast.base_url}/v1/replies/{long_entry['id']}").json()
    assert reply["truncated"] is True and "rawUrl" in reply and "source" not in reply
