"""Reading customer replies: who wrote, what they answer, what they said, what they attached."""

import json
from email.message import EmailMessage

import pytest

from local.smtp import S3Rule, verdicts_from_test_header
from relance.domain.inbound import (
    MAX_ATTACHMENTS,
    MAX_TEXT_BYTES,
    clip_utf8,
    inbound_address,
    is_public_mail_domain,
    organizations_addressed,
    screen,
    verdicts_of,
)
from relance.mail.inbound import html_to_text, parse
from relance.mail.ses import parse_reference, reference


def message(text: str, **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Pat Payer <Pat@Customer.example>")
    mail["To"] = headers.pop(
        "To", "reply+org_01jdemo0000000000000000000.act_5bb691b0978010ad22bb948355@replies.example.com"
    )
    mail["Subject"] = headers.pop("Subject", "Re: Overdue invoices")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


def test_the_quoted_history_is_stripped_in_english_and_french():
    english = parse(
        bytes(
            message(
                "We pay Friday.\n\nPat\n\nOn Mon, 3 Nov 2026 at 10:00, Acme <ar@acme.example> wrote:\n> Dear customer\n"
            )
        )
    )
    french = parse(
        bytes(
            message(
                "Nous payons vendredi.\n\nLe lun. 3 nov. 2026 à 10:00, Acme <ar@acme.example> a écrit :\n> Bonjour\n"
            )
        )
    )

    assert english.reply == "We pay Friday.\n\nPat"
    assert "Dear customer" in english.text  # the whole text is kept too
    assert french.reply == "Nous payons vendredi."


def test_sender_is_lower_cased_and_references_come_newest_first():
    mail = parse(bytes(message("ok", In_Reply_To="<b@x>", References="<a@x> <b@x>", Message_ID="<c@customer.example>")))

    assert (mail.sender, mail.sender_name) == ("pat@customer.example", "Pat Payer")
    assert mail.references == ["<b@x>", "<a@x>"]
    assert mail.message_id == "<c@customer.example>"


def test_attachments_are_kept_with_their_name_type_and_bytes():
    mail = message("see attached")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="remittance.pdf")

    [attachment] = parse(bytes(mail)).attachments

    assert (attachment.filename, attachment.content_type, attachment.data) == (
        "remittance.pdf",
        "application/pdf",
        b"%PDF-1.4",
    )


def test_an_html_only_message_is_read_as_text():
    mail = EmailMessage()
    mail["From"] = "ap@customer.example"
    mail.set_content(
        "<html><head><style>p{}</style></head><body><p>Paid <b>today</b>.</p><p>Thanks</p></body></html>",
        subtype="html",
    )

    assert parse(bytes(mail)).text == "Paid\ntoday\n.\nThanks" or parse(bytes(mail)).text.replace("\n", " ").startswith(
        "Paid"
    )
    assert html_to_text("<script>x()</script><div>Hello</div>") == "Hello"


def test_auto_replies_are_recognised():
    assert parse(bytes(message("I am away", Auto_Submitted="auto-replied"))).automatic
    assert not parse(bytes(message("Real answer"))).automatic


def test_our_references_are_found_in_addresses_and_message_ids_even_lower_cased():
    ours = reference("org_01jdemo0000000000000000000", "act_5bb691b0978010ad22bb948355")

    assert parse_reference(f"reply+{ours}@replies.example.com") == (
        "org_01jdemo0000000000000000000",
        "act_5bb691b0978010ad22bb948355",
    )
    assert parse_reference(f"<{ours.upper()}@REPLIES.EXAMPLE.COM>") == (
        "org_01jdemo0000000000000000000",
        "act_5bb691b0978010ad22bb948355",
    )
    assert parse_reference("ar@replies.example.com") is None
    assert parse_reference("<CAF1234@mail.customer.example>") is None


@pytest.mark.parametrize(
    ("recipients", "address", "covered"),
    [
        (("replies.example.com",), "reply+x@replies.example.com", True),
        (("replies.example.com",), "reply+x@other.example.com", False),
        ((".example.com",), "a@replies.example.com", True),
        (("ar@replies.example.com",), "AR@replies.example.com", True),
        ((), "anyone@anywhere.example", True),
    ],
)
def test_receipt_rule_recipients_cover_addresses_domains_and_subdomains(recipients, address, covered):
    assert S3Rule(recipients, "bucket", "inbound/", None).covers(address) is covered


def test_the_sample_event_is_a_received_notification_of_a_stored_message(sample_event):
    record = sample_event("inbound_mail/sqs-ses-received.json")["Records"][0]
    notification = json.loads(json.loads(record["body"])["Message"])

    assert notification["notificationType"] == "Received"
    assert notification["receipt"]["action"]["type"] == "S3"
    assert notification["receipt"]["action"]["objectKey"].startswith(
        notification["receipt"]["action"]["objectKeyPrefix"]
    )


# ---------------------------------------------------------------- poison messages


def raw_message(body: bytes, content_type: str = "text/plain; charset=x-unknown-9") -> bytes:
    return (
        b"From: Pat <pat@customer.example>\r\nTo: ar@replies.example.com\r\nSubject: =?x-unknown-9?q?caf=E9?=\r\n"
        + f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
        + body
    )


def test_an_unknown_charset_is_read_with_replacement_characters():
    mail = parse(raw_message(b"Paid caf\xe9 invoice 12.\r\n"))

    assert mail.text == "Paid caf\ufffd invoice 12."
    assert mail.subject == "caf\ufffd"
    assert not mail.truncated


@pytest.mark.parametrize(
    ("text", "limit", "kept"),
    [
        ("abc", 3, ("abc", False)),
        ("abcd", 3, ("abc", True)),
        ("日本語", 8, ("日本", True)),  # 3 bytes each: the third does not fit whole
        ("日本語", 9, ("日本語", False)),
        ("é" * 5, 5, ("éé", True)),
        ("", 0, ("", False)),
    ],
)
def test_stored_text_is_capped_in_utf8_bytes_on_a_character_boundary(text, limit, kept):
    assert clip_utf8(text, limit) == kept


def test_a_long_cjk_reply_is_cut_to_its_byte_budget_and_marked_truncated():
    long_reply = "請求書の支払いについて。" * 20_000  # 720 KB of UTF-8, over DynamoDB's 400 KB item
    mail = parse(bytes(message(long_reply)))

    assert mail.truncated
    assert len(mail.text.encode()) <= MAX_TEXT_BYTES and len(mail.reply.encode()) <= MAX_TEXT_BYTES
    assert mail.text.startswith("請求書の支払いについて。")
    assert long_reply.startswith(mail.text)  # cut on a character boundary


def test_only_the_first_files_of_a_message_are_kept_the_rest_counted():
    mail = message("many files")
    for number in range(MAX_ATTACHMENTS + 5):
        mail.add_attachment(b"x", maintype="application", subtype="octet-stream", filename=f"{number}.bin")

    parsed = parse(bytes(mail))

    assert len(parsed.attachments) == MAX_ATTACHMENTS and parsed.attachments_omitted == 5
    assert parsed.truncated


@pytest.mark.parametrize(
    ("raw", "sender", "to"),
    [
        (
            b"From: =?utf-8?q?=?= <pat@customer.example\r\nTo: ar@replies.example.com\r\n\r\nPaid.",
            "pat@customer.example",
            ["ar@replies.example.com"],
        ),
        (b'From: pat@customer.example\r\nTo: =?utf-8?q?x?=@\r\nCc: "\\\r\n\r\nPaid.', "pat@customer.example", []),
    ],
)
def test_headers_the_mail_parser_trips_on_are_read_as_they_came(raw, sender, to):
    mail = parse(raw)  # Python's structured-header parser raises IndexError on these

    assert (mail.sender, mail.to, mail.text) == (sender, to, "Paid.")


# ---------------------------------------------------------------- which organization, which domains


ORG_A, ORG_B = "org_01jdemo0000000000000000000", "org_01jother000000000000000000"
ACTION = "act_5bb691b0978010ad22bb948355"


@pytest.mark.parametrize(
    ("recipients", "named"),
    [
        ([f"ar+{ORG_A}@replies.example.com"], {ORG_A: None}),
        ([f"reply+{ORG_A}.{ACTION}@Replies.Example.com"], {ORG_A: ACTION}),
        ([f"ar+{ORG_A}@replies.example.com", f"reply+{ORG_A}.{ACTION}@replies.example.com"], {ORG_A: ACTION}),
        ([f"ar+{ORG_A}@replies.example.com", f"AR+{ORG_B.upper()}@replies.example.com"], {ORG_A: None, ORG_B: None}),
        (["ar@replies.example.com", "reply@replies.example.com"], {}),  # names no organization
        ([f"ar+{ORG_A}@elsewhere.example"], {}),  # not our domain
        ([f"ar+{ORG_A}@sub.replies.example.com"], {}),
        ([f"ar+{ORG_A}x@replies.example.com", "ar+org_short@replies.example.com"], {}),
    ],
)
def test_only_the_delivery_address_names_the_organization(recipients, named):
    assert organizations_addressed(recipients, "replies.example.com") == named


def test_an_organization_s_inbound_address_names_it():
    address = inbound_address(ORG_A, "replies.example.com")

    assert address == f"ar+{ORG_A}@replies.example.com"
    assert organizations_addressed([address], "replies.example.com") == {ORG_A: None}


@pytest.mark.parametrize(
    ("domain", "public"),
    [
        ("gmail.com", True),
        ("GMAIL.COM", True),
        ("outlook.fr", True),
        ("yahoo.co.uk", True),
        ("mail.yahoo.co.uk", True),  # a subdomain of a public one
        ("sfr.fr", True),  # from the documented supplement
        ("tutanota.com", True),
        ("acme-corp.example", False),
        ("co.uk", False),
        ("com", False),
    ],
)
def test_free_and_public_mail_domains_are_recognised(domain, public):
    assert is_public_mail_domain(domain) is public


# ---------------------------------------------------------------- trust


def test_the_sender_is_from_never_reply_to():
    mail = parse(bytes(message("Pay here", From="Fraud <fraud@attacker.example>", Reply_To="pay@customer.example")))

    assert (mail.sender, mail.sender_name) == ("fraud@attacker.example", "Fraud")


PASSING = {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}


@pytest.mark.parametrize(
    ("changes", "virus", "spam", "unverified"),
    [
        ({}, False, False, False),
        ({"dmarc": "GRAY"}, False, False, False),  # no DMARC policy, but SPF and DKIM pass
        ({"spf": "GRAY", "dkim": "GRAY", "dmarc": "GRAY"}, False, False, True),  # nothing vouches for it
        ({"spf": "FAIL"}, False, False, True),
        ({"dkim": "FAIL"}, False, False, True),
        ({"dmarc": "FAIL"}, False, False, True),
        ({"dkim": "PROCESSING_FAILED"}, False, False, True),  # could not be checked
        ({"spam": "FAIL"}, False, True, False),
        ({"virus": "FAIL"}, True, False, False),
        ({"virus": "GRAY"}, False, False, False),
    ],
)
def test_ses_verdicts_decide_what_is_trusted(changes, virus, spam, unverified):
    screening = screen({**PASSING, **changes})

    assert (screening.virus, screening.spam, screening.unverified) == (virus, spam, unverified)
    assert screening.trusted_sender is not (spam or unverified)


def test_without_verdicts_nothing_is_trusted_and_missing_ones_say_so():
    assert screen(None).unverified and not screen(None).trusted_sender
    receipt = {"spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "FAIL"}, "spfVerdict": {}}

    assert verdicts_of(receipt) == {
        "spam": "PASS",
        "virus": "FAIL",
        "spf": "MISSING",
        "dkim": "MISSING",
        "dmarc": "MISSING",
    }


@pytest.mark.parametrize(
    ("header", "verdicts"),
    [
        (None, dict(PASSING)),
        ("virus=FAIL,spf=FAIL", {**PASSING, "virus": "FAIL", "spf": "FAIL"}),
        (" DMARC = gray , dkim=processing_failed ", {**PASSING, "dmarc": "GRAY", "dkim": "PROCESSING_FAILED"}),
    ],
)
def test_the_local_ses_stand_in_takes_its_verdicts_from_a_test_header(header, verdicts):
    mail = message("hello", **({"X_Relance_Test_Verdicts": header} if header else {}))

    assert verdicts_from_test_header(bytes(mail)) == verdicts


@pytest.mark.parametrize(("header", "named"), [("malware=FAIL", "malware"), ("spf=BAD", "spf")])
def test_a_test_verdicts_header_the_stand_in_cannot_read_is_refused_naming_it(header, named):
    with pytest.raises(ValueError, match=named):
        verdicts_from_test_header(bytes(message("hello", X_Relance_Test_Verdicts=header)))


def test_the_receipt_rule_has_ses_scan_for_spam_and_viruses():
    from local.template import Template
    from tests.conftest import ROOT

    template = Template(ROOT / "template.yaml")
    [rule] = [template.properties(r)["Rule"] for r in template.resources("AWS::SES::ReceiptRule")]

    assert rule["ScanEnabled"] is True  # without it SES gives no spam or virus verdict: a virus would get in
    assert rule["Enabled"] is True
