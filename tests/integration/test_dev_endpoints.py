"""Local-only endpoints: the clock and the outbox."""

from datetime import datetime, timedelta
from email.message import EmailMessage

import requests

from relance import aws, clock


def test_post_dev_clock_moves_relance_clock(runtime):
    before = clock.now()

    response = requests.post(f"{runtime.base_url}/dev/clock", json={"advanceDays": 5})

    assert response.status_code == 200
    now = datetime.fromisoformat(response.json()["now"])
    assert now - before >= timedelta(days=5)
    assert clock.now() >= now
    assert datetime.fromisoformat(requests.get(f"{runtime.base_url}/dev/clock").json()["now"]) >= now


def test_post_dev_clock_refuses_bad_input_naming_the_field(runtime):
    before = clock.now()

    response = requests.post(f"{runtime.base_url}/dev/clock", json={"advanceDays": -1})

    assert response.status_code == 422
    assert "advanceDays" in response.json()["error"]["fields"]
    assert clock.now() - before < timedelta(days=1)


def test_outbox_lists_sent_mail_with_the_clock_time(runtime):
    sesv2 = aws.client("sesv2")
    sesv2.create_email_identity(EmailIdentity="ar@demo.example")
    requests.post(f"{runtime.base_url}/dev/ses/verify", json={"email": "ar@demo.example"}).raise_for_status()
    mime = EmailMessage()
    mime["From"] = "Demo AR <ar@demo.example>"
    mime["To"] = "payer@customer.example"
    mime["Cc"] = "buyer@customer.example"
    mime["Reply-To"] = "reply+tok@demo.example"
    mime["Subject"] = "Invoice INV-1 is overdue"
    mime.set_content("Please pay INV-1.")
    mime.add_alternative("<p>Please pay <b>INV-1</b>.</p>", subtype="html")
    sent = sesv2.send_email(
        FromEmailAddress="ar@demo.example",
        Destination={"ToAddresses": ["payer@customer.example"], "CcAddresses": ["buyer@customer.example"]},
        Content={"Raw": {"Data": mime.as_bytes()}},
    )

    outbox = requests.get(f"{runtime.base_url}/dev/outbox").json()

    message = next(m for m in outbox if m["messageId"] == sent["MessageId"])
    assert message["to"] == ["payer@customer.example"]
    assert message["cc"] == ["buyer@customer.example"]
    assert message["replyTo"] == ["reply+tok@demo.example"]
    assert message["subject"] == "Invoice INV-1 is overdue"
    assert message["text"].strip() == "Please pay INV-1."
    assert "<b>INV-1</b>" in message["html"]
    assert abs(datetime.fromisoformat(message["sentAt"]) - clock.now()) < timedelta(minutes=1)


def test_dev_page_shows_the_session(runtime):
    page = requests.get(f"{runtime.base_url}/dev")

    assert page.status_code == 200
    assert runtime.session["apiKey"] in page.text
    assert requests.get(f"{runtime.base_url}/", allow_redirects=False).headers["Location"] == "/analytics"  # the home
