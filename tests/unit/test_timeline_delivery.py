"""What became of each email of a timeline page, as the web app shows it (``workspace._timeline_page``):
received, opened, clicked, failed, blocked — from the customer's actions as stored."""

from __future__ import annotations

from datetime import UTC, datetime

from relance.domain.organizations import Organization
from relance.services.workspace import Directory, _timeline_page

KNOWN = Directory(
    users={},
    workflows={},
    views=[],
    custom_fields=[],
    organization=Organization(id="org_test", name="Test Co", created_at=datetime(2026, 1, 1, tzinfo=UTC)),
    positions=[],
    people={"usr_x": ("Xavier Roe", "XR")},
)


def test_each_emails_delivery_is_named_and_a_later_status_wins():
    statuses = {"a1": "delivered", "a2": "opened", "a3": "clicked", "a4": "bounced", "a5": "complained", "a6": None}
    actions = [
        {"id": i, "type": "email", "status": "sent", "to": ["ap@x.example"], "deliveryStatus": s}
        for i, s in statuses.items()
    ]
    entries = [{"kind": "action", "id": i, "status": "sent", "type": "email", "owner": "usr_x"} for i in statuses]

    page = _timeline_page(entries, None, actions, KNOWN)

    assert page.delivery == {"a1": "received", "a2": "opened", "a3": "clicked", "a4": "failed", "a5": "blocked"}
    assert page.entries[0]["ownerName"] == "Xavier Roe" and page.entries[0]["ownerInitials"] == "XR"
    assert page.answers["a1"] == ("a1", ["ap@x.example"])  # a sent email can be answered, to its recipients
