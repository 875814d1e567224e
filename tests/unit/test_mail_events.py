"""Reading SES events: which status each means, about which recipients."""

import json

from relance.services.mail_events import RANK, recipients_of


def ses_event(sample_event):
    record = sample_event("mail_events/sqs-ses-bounce.json")["Records"][0]
    return json.loads(json.loads(record["body"])["Message"])


def test_a_permanent_bounce_names_its_recipient_and_reason(sample_event):
    status, recipients = recipients_of(ses_event(sample_event))

    assert status == "bounced"
    assert recipients[0]["emailAddress"] == "ap@customer.example"
    assert "550" in recipients[0]["diagnosticCode"]


def test_a_transient_bounce_changes_no_status(sample_event):
    event = ses_event(sample_event)
    event["bounce"]["bounceType"] = "Transient"

    assert recipients_of(event)[0] is None


def test_statuses_rank_so_that_they_only_move_forward():
    assert RANK["sent"] < RANK["delivered"] < RANK["opened"] < RANK["clicked"] < RANK["bounced"] < RANK["complained"]


def test_open_and_click_concern_every_recipient(sample_event):
    event = ses_event(sample_event)
    event["eventType"] = "Open"

    assert recipients_of(event) == ("opened", [{"emailAddress": "ap@customer.example"}])
