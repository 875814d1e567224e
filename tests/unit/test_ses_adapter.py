"""The SES adapter names SES's refusal of an unverified sender (no AWS: a stubbed client)."""

from email import message_from_bytes, policy
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from relance.errors import SenderNotVerified
from relance.mail import ses
from relance.mail.rendering import RenderedEmail

SENDER = "ar@relance.example"


def rejected(message: str, code: str = "MessageRejected") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "SendEmail")


@pytest.mark.parametrize(
    ("message", "refused"),
    [
        (
            "Email address is not verified. The following identities failed the check in region EU-WEST-1: " + SENDER,
            True,
        ),
        (
            "Email address is not verified. The following identities failed the check in region US-EAST-1: "
            "Relance AR <AR@relance.example>, payer@customer.example",
            True,
        ),
        # The sandbox: only a recipient is unverified — another problem than the sender.
        (
            "Email address is not verified. The following identities failed the check in region US-EAST-1: "
            "payer@customer.example",
            False,
        ),
        # An address that merely contains the sender's is not the sender.
        (
            "Email address is not verified. The following identities failed the check in region US-EAST-1: "
            "xar@relance.example",
            False,
        ),
        ("Did not have authority to send from email ar@relance.example", True),
        ("Sending paused for this account. For more information, please check the AWS console.", False),
    ],
)
def test_only_a_message_naming_the_sender_as_unverified_is_a_refused_sender(message, refused):
    assert ses.refuses_sender(rejected(message), SENDER) is refused


def test_other_errors_are_not_a_refused_sender():
    assert not ses.refuses_sender(rejected(f"not verified: {SENDER}", code="TooManyRequestsException"), SENDER)


@pytest.fixture
def stubbed(monkeypatch):
    sesv2 = boto3.session.Session().client(
        "sesv2", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    monkeypatch.setattr(ses, "client", lambda service: sesv2)
    with Stubber(sesv2) as stubber:
        yield stubber


def envelope() -> ses.Envelope:
    return ses.for_action("org_x", "act_x", sender_name="Relance AR", sender_email=SENDER, to=["p@c.example"], cc=[])


EMAIL = RenderedEmail(subject="Overdue", text="Please pay.\n", html="<p>Please pay.</p>")


def refuse_the_sender(stubbed) -> None:
    """SES answers as it does for a sender that is not a verified identity."""
    stubbed.add_client_error(
        "send_email",
        service_error_code="MessageRejected",
        service_message=f"Email address is not verified. The following identities failed the check in region "
        f"US-EAST-1: {SENDER}",
        http_status_code=400,
    )


def test_send_raises_sender_not_verified_when_ses_refuses_the_sender(stubbed):
    refuse_the_sender(stubbed)

    with pytest.raises(SenderNotVerified) as refused:
        ses.send(envelope(), EMAIL)

    assert refused.value.sender == SENDER
    assert refused.value.status == 422 and "senderEmail" in refused.value.fields
    assert SENDER in refused.value.message


def test_send_lets_other_refusals_through(stubbed):
    stubbed.add_client_error(
        "send_email",
        service_error_code="MessageRejected",
        service_message="Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: p@c.example",
        http_status_code=400,
    )

    with pytest.raises(ClientError) as error:
        ses.send(envelope(), EMAIL)

    assert not isinstance(error.value, SenderNotVerified)


def test_line_breaks_in_header_values_neither_break_the_email_nor_add_headers(monkeypatch):
    sent = {}

    class Recorder:
        def send_email(self, **arguments):
            sent.update(arguments)
            return {"MessageId": "m-1"}

    monkeypatch.setattr(ses, "client", lambda service: Recorder())
    injected = "\r\nBcc: thief@evil.example\r\n"
    envelope = ses.for_action(
        "org_x",
        "act_x",
        sender_name=f"Relance{injected}AR",
        sender_email=SENDER,
        to=["p@c.example"],
        cc=[],
        in_reply_to=f"<m@c.example>{injected}",
    )
    email = RenderedEmail(subject=f"Re: invoice{injected}42", text="Paid?\n", html="<p>Paid?</p>")

    assert ses.send(envelope, email, (ses.Attachment(f"a{injected}.pdf", "application/pdf", b"%PDF"),)) == "m-1"

    message = message_from_bytes(sent["Content"]["Raw"]["Data"], policy=policy.default)
    assert "Bcc" not in message and "thief@evil.example" not in str(message["To"])
    assert str(message["Subject"]) == "Re: invoice Bcc: thief@evil.example 42"
    assert str(message["From"]) == f'"Relance Bcc: thief@evil.example AR" <{SENDER}>'
    assert str(message["In-Reply-To"]) == "<m@c.example> Bcc: thief@evil.example"
    assert [part.get_filename() for part in message.iter_attachments()] == ["a Bcc: thief@evil.example .pdf"]
    assert sent["Destination"] == {"ToAddresses": ["p@c.example"], "CcAddresses": []}


def test_a_plain_text_email_goes_through_the_configuration_set_only_with_tags(monkeypatch):
    sent = []

    class Recorder:
        def send_email(self, **arguments):
            sent.append(arguments)
            return {"MessageId": f"m-{len(sent)}"}

    monkeypatch.setattr(ses, "client", lambda service: Recorder())
    settings = SimpleNamespace(ses_configuration_set="relance-mail")
    monkeypatch.setattr(ses, "get_settings", lambda: settings)

    assert ses.send_text(("Relance", SENDER), "am@org.example", "Relance: a reply", "Pat replied.\n") == "m-1"
    ses.send_text(("", SENDER), "ar@org.example", "x" * 300, "Hello", reply_to="pat@c.example", tags={"o": "org_x"})

    notification, forwarded = sent
    assert notification["FromEmailAddress"] == f"Relance <{SENDER}>"
    assert notification["Destination"] == {"ToAddresses": ["am@org.example"]}
    assert notification["Content"]["Simple"]["Body"]["Text"]["Data"] == "Pat replied.\n"
    assert "ConfigurationSetName" not in notification and "EmailTags" not in notification
    assert forwarded["FromEmailAddress"] == SENDER and forwarded["ReplyToAddresses"] == ["pat@c.example"]
    assert forwarded["ConfigurationSetName"] == "relance-mail"
    assert forwarded["EmailTags"] == [{"Name": "o", "Value": "org_x"}]
    assert len(forwarded["Content"]["Simple"]["Subject"]["Data"]) == 200


def test_a_plain_text_email_from_an_unverified_sender_raises_sender_not_verified(stubbed):
    refuse_the_sender(stubbed)

    with pytest.raises(SenderNotVerified) as refused:
        ses.send_text(("Acme portal", SENDER), "ar@acme.example", "Portal message", "Hello")

    assert refused.value.sender == SENDER
