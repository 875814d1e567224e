"""Text messages to phones through SNS."""

from __future__ import annotations

from relance.aws import client


def send(phone: str, text: str) -> str:
    """Send ``text`` to ``phone`` (international format, ``+…``; spaces dropped); SNS's message id."""
    answer = client("sns").publish(PhoneNumber=phone.replace(" ", ""), Message=text)
    return str(answer["MessageId"])
