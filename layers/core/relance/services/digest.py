"""The weekly digest: an email to each person who asked for it (``weeklyDigest`` on their profile)
about the week Monday–Sunday just ended — outstanding and overdue at its end, collected during it,
DSO and the five customers slipping most — with a link to Analytics (docs/analytics.md).

The nightly run calls ``send_weekly_digests`` every night; it sends only on the night whose date in
the organization's time zone is a Monday. Each person sees the customers they may see, as in
``services.analytics`` (an account manager: their own). A digest is claimed (``storage.digests``:
one item per organization, week and person) before it is sent, so a retried night never sends it
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from relance import clock
from relance.domain.analytics.collected import Period, collected
from relance.domain.analytics.dso import dso
from relance.domain.analytics.forecast import local_day
from relance.domain.analytics.history import Month
from relance.domain.analytics.receivables import balances_on
from relance.domain.analytics.slipping import slipping
from relance.domain.money import Money
from relance.domain.organizations import Principal
from relance.mail import ses
from relance.mail.rendering import RenderedEmail, render_file
from relance.observability import logger, metrics
from relance.services import analytics
from relance.services.access import can_see
from relance.services.organizations import get_organization
from relance.settings import get_settings
from relance.storage import digests as digest_store
from relance.storage import users as user_store

TEMPLATE = "team/weekly_digest.j2"
LOCALE = "en"  # the web app's language


@dataclass(frozen=True)
class Week:
    """Monday ``first`` to Sunday ``last``, in the organization's time zone."""

    first: date
    last: date


def week_ended(today: date) -> Week | None:
    """On a Monday, the week that ended the day before; on any other day, none (no digest)."""
    if today.weekday() != 0:
        return None
    return Week(first=today - timedelta(days=7), last=today - timedelta(days=1))


@dataclass(frozen=True)
class CurrencyFigures:
    """One currency's figures of the week: balances at the end of its Sunday, what came in during it,
    the countback DSO of the month it ended in."""

    currency: str
    outstanding: int
    overdue: int
    collected: int
    dso_days: Decimal


@dataclass(frozen=True)
class SlippingCustomer:
    customer_id: str
    name: str
    currency: str
    overdue: int
    growth: int
    rating_before: str | None
    rating_after: str | None


@dataclass(frozen=True)
class WeeklyDigest:
    organization_name: str
    person_name: str
    whole_organization: bool
    week: Week
    dso_month: Month
    figures: tuple[CurrencyFigures, ...]
    slipping: tuple[SlippingCustomer, ...]


def weekly_digest(
    ledger: analytics.Books, week: Week, *, organization_name: str, person_name: str, whole_organization: bool
) -> WeeklyDigest:
    """The figures of ``week`` in ``ledger`` (the books as one person sees them)."""
    balances = balances_on(ledger.invoices, ledger.money, week.last)
    came_in: dict[str, int] = {}
    for row in collected(ledger.money, Period.WEEK, week.first, week.last):
        came_in[row.currency] = came_in.get(row.currency, 0) + row.total
    month = Month.of(week.last)
    figures = tuple(
        CurrencyFigures(
            currency=currency,
            outstanding=balances[currency].outstanding if currency in balances else 0,
            overdue=balances[currency].overdue if currency in balances else 0,
            collected=came_in.get(currency, 0),
            dso_days=dso(ledger.invoices, currency, month).countback_days,
        )
        for currency in sorted(set(balances) | set(came_in))
    )
    slips = tuple(
        SlippingCustomer(
            customer_id=s.customer_id,
            name=str(ledger.customers.get(s.customer_id, {}).get("name", s.customer_id)),
            currency=s.currency,
            overdue=s.overdue_after,
            growth=s.growth,
            rating_before=s.rating_before,
            rating_after=s.rating_after,
        )
        for s in slipping(ledger.invoices, week.last, ledger.settings.rating_basis)
    )
    return WeeklyDigest(
        organization_name=organization_name,
        person_name=person_name,
        whole_organization=whole_organization,
        week=week,
        dso_month=month,
        figures=figures,
        slipping=slips,
    )


def _rating(before: str | None, after: str | None) -> str:
    if after is None:
        return "not rated"
    return after if before in (None, after) else f"{before} → {after}"


def render_digest(digest: WeeklyDigest) -> RenderedEmail:
    """The email of a digest: ``templates/emails/team/weekly_digest.j2``, amounts per currency."""

    def money(amount: int, currency: str) -> str:
        return Money(amount=amount, currency=currency).format(LOCALE)

    base = get_settings().public_base_url
    context: dict[str, Any] = {
        "organization": {"name": digest.organization_name},
        "person": {"name": digest.person_name},
        "scope": "all customers" if digest.whole_organization else "your customers",
        "week": {
            "first": format_date(digest.week.first, "medium", locale=LOCALE),
            "last": format_date(digest.week.last, "medium", locale=LOCALE),
        },
        "dso_month": format_date(digest.dso_month.first_day, "MMMM y", locale=LOCALE),
        "figures": [
            {
                "currency": f.currency,
                "outstanding": money(f.outstanding, f.currency),
                "overdue": money(f.overdue, f.currency),
                "collected": money(f.collected, f.currency),
                "dso": f"{f.dso_days} days",
            }
            for f in digest.figures
        ],
        "slipping": [
            {
                "name": s.name,
                "overdue": money(s.overdue, s.currency),
                "growth": money(s.growth, s.currency),
                "rating": _rating(s.rating_before, s.rating_after),
            }
            for s in digest.slipping
        ],
        "dashboard_url": f"{base}/analytics",
        "profile_url": f"{base}/profile",
    }
    return render_file(TEMPLATE, context)


# ---------------------------------------------------------------- sending


def _person(org_id: str, user: dict[str, Any]) -> Principal:
    return Principal(organization_id=org_id, role=user["role"], principal_id=f"user:{user['id']}", user_id=user["id"])


def send_weekly_digests(org_id: str, at: datetime | None = None) -> int:
    """On the night whose local date is a Monday, each opted-in person's digest of the week just
    ended, sent once (however often the night runs); how many were sent now."""
    organization = get_organization(org_id)
    week = week_ended(local_day(at or clock.now(), ZoneInfo(organization.settings.timezone)))
    if week is None:
        return 0
    readers = [u for u in user_store.list_users(org_id) if u.get("weeklyDigest") and not u.get("pendingIdentity")]
    if not readers:
        return 0
    if not organization.settings.sender_email:
        logger.info("no sender address: weekly digests not sent", organization_id=org_id)
        return 0
    nightly = Principal(organization_id=org_id, role="admin", principal_id="nightly")
    everything = analytics.books(nightly, analytics.AnalyticsFilter())  # read once, cut per person
    sent = 0
    for user in readers:
        person = _person(org_id, user)
        ledger = everything.of_customers(partial(can_see, person))
        digest = weekly_digest(
            ledger,
            week,
            organization_name=organization.name,
            person_name=user["name"],
            whole_organization=person.is_admin,
        )
        sent += _send_once(org_id, organization.settings.sender_email, user, week, render_digest(digest))
    return sent


def _send_once(org_id: str, sender: str, user: dict[str, Any], week: Week, email: RenderedEmail) -> int:
    """Claim the digest, send it, mark it sent; 0 when it was claimed already or SES did not take it."""
    first, user_id = week.first.isoformat(), user["id"]
    if not digest_store.claim(org_id, first, user_id, clock.now()):
        return 0  # sent (or being sent) by an earlier run of the night
    envelope = ses.Envelope(
        sender_name="Relance",
        sender_email=sender,
        to=[user["email"]],
        cc=[],
        reply_to=sender,
        message_id=f"<digest.{first}.{user_id}.{org_id}@{get_settings().reply_domain}>",  # one per digest
        tags={"organization": org_id, "kind": "digest"},  # no action tag: its SES events change nothing
    )
    try:
        message_id = ses.send(envelope, email)
    except (ses.AwsUnavailable, ses.SenderNotVerified) as error:  # SES took nothing: a later run may send it
        digest_store.release(org_id, first, user_id)
        logger.warning("weekly digest not sent", user_id=user_id, reason=str(error))
        metrics.add_metric(name="WeeklyDigestFailed", unit="Count", value=1)
        return 0
    except Exception as error:  # not known whether it went: never sent again
        digest_store.mark(org_id, first, user_id, "failed", {"reason": f"{type(error).__name__}: {str(error)[:300]}"})
        logger.exception("weekly digest failed", user_id=user_id)
        metrics.add_metric(name="WeeklyDigestFailed", unit="Count", value=1)
        return 0
    digest_store.mark(org_id, first, user_id, "sent", {"messageId": message_id, "sentAt": clock.now().isoformat()})
    return 1
