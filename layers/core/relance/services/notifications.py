"""Tell people about what needs them, on the channels each chose: in-app, email, Slack.

Every notification is stored once per user under an id derived from what it is about, so a
retried Lambda neither lists it twice nor emails or posts it twice: the other channels are
only tried by the call that stored it. Notifications expire after 90 days (TTL).
"""

from __future__ import annotations

from typing import Any

from relance import clock
from relance.domain.organizations import Principal
from relance.domain.slack import slack_text
from relance.errors import NotFound
from relance.ids import stable_id
from relance.mail import ses
from relance.observability import logger, metrics
from relance.services.organizations import get_organization
from relance.settings import get_settings
from relance.storage import notifications as store
from relance.storage import users as user_store

DEFAULT_CHANNELS = ["in_app", "email"]


def notify(org_id: str, user_ids: list[str], kind: str, summary: str, about: str, data: dict[str, Any]) -> int:
    """Notify each user once about ``about`` (a stable key, e.g. the reply id); how many were new."""
    now = clock.now()
    delivered = 0
    by_email: list[dict[str, Any]] = []
    for user_id in dict.fromkeys(user_ids):
        user = user_store.get_user(org_id, user_id)
        if user is None:
            continue
        channels = user.get("notificationChannels", DEFAULT_CHANNELS)
        notification_id = stable_id("ntf", kind, about, user_id)
        notification = {
            "id": notification_id,
            "userId": user_id,
            "kind": kind,
            "summary": summary,
            "at": now.isoformat(),
            "read": "in_app" not in channels,
            "channels": channels,
            "about": about,
            **data,
        }
        if not store.add(org_id, user_id, notification, now):
            continue  # a retry: already told
        delivered += 1
        if "email" in channels:
            by_email.append(user)
        if "slack" in channels and user.get("slackWebhookUrl"):
            post_to_slack(user["slackWebhookUrl"], summary)
    if by_email:
        _email(org_id, by_email, summary)
    return delivered


def _email(org_id: str, users: list[dict[str, Any]], summary: str) -> None:
    """One email per user, from the organization's sender address (read once)."""
    sender = get_organization(org_id).settings.sender_email
    if not sender:
        logger.info("no sender address: notification not emailed", user_ids=[u["id"] for u in users])
        return
    body = f"{summary}\n\nOpen Relance to see it: {get_settings().public_base_url}\n"
    for user in users:
        try:
            ses.send_text(("Relance", sender), user["email"], f"Relance: {summary}", body)
        except Exception:  # a notification must never fail what caused it
            logger.exception("notification email failed", user_id=user["id"])
            metrics.add_metric(name="NotificationEmailFailed", unit="Count", value=1)


def post_to_slack(webhook_url: str, summary: str) -> bool:
    """Post to the user's Slack incoming webhook; False (logged) when Slack refuses or is unreachable.

    The summary carries what outsiders wrote (a reply's subject): it is escaped for Slack's mrkdwn
    (no mention, no disguised link, ``relance.domain.slack``) and links in it are not unfurled."""
    from slack_sdk.webhook import WebhookClient  # heavy (~70 ms): only when a user posts to Slack

    try:
        response = WebhookClient(webhook_url, timeout=5).send(
            text=slack_text(summary), unfurl_links=False, unfurl_media=False
        )
    except Exception:
        logger.exception("Slack webhook unreachable")
        metrics.add_metric(name="SlackNotificationFailed", unit="Count", value=1)
        return False
    if response.status_code != 200:
        logger.warning("Slack refused the notification", status=response.status_code, body=response.body)
        metrics.add_metric(name="SlackNotificationFailed", unit="Count", value=1)
        return False
    return True


def people_to_tell(org_id: str, customer: dict[str, Any]) -> list[str]:
    """Who hears about a customer's money or mail: its account managers; nobody assigned, the
    organization's admins (something must reach someone)."""
    managers = list(customer.get("accountManagerIds") or [])
    if managers:
        return managers
    return [u["id"] for u in user_store.list_users(org_id) if u.get("role") == "admin"]


def list_notifications(principal: Principal, limit: int = 50) -> dict[str, Any]:
    """The caller's in-app notifications, newest first, and how many are unread (Query of their partition)."""
    if not principal.user_id:
        return {"items": [], "unread": 0}
    rows = store.of_user(principal.organization_id, principal.user_id)
    items = [i for i in rows if "in_app" in i.get("channels", ["in_app"])]
    items.sort(key=lambda i: (i["at"], i["id"]), reverse=True)
    return {"items": items[:limit], "unread": sum(1 for i in items if not i["read"])}


def mark_read(principal: Principal, notification_id: str) -> None:
    if not store.mark_read(principal.organization_id, principal.user_id or "-", notification_id):
        raise NotFound("notification not found")
