"""Every DynamoDB key of the single table, built here and nowhere else.

Each key starts with the organization (the tenant), except ``sender_owner`` (an address
belongs to one organization, which only a key outside the partitions can guarantee),
``quarantined_mail`` (inbound mail that named no organization belongs to none) and
``invitation`` (a person's invitations are theirs, whichever organization sent them).
``docs/data-model.md`` lists the access pattern each function serves.
"""

from __future__ import annotations

from typing import TypedDict


class Key(TypedDict):
    PK: str
    SK: str


class NameOrder(TypedDict):
    """A customer's keys in GSI3 (the customer list in name order)."""

    GSI3PK: str
    GSI3SK: str


def organization(org_id: str) -> Key:
    """An organization's profile and settings."""
    return {"PK": f"ORG#{org_id}", "SK": "ORG"}


def organizations_index() -> dict[str, str]:
    """GSI1 partition that lists every organization (the nightly fan-out)."""
    return {"GSI1PK": "ORGS"}


def organization_index_entry(org_id: str) -> dict[str, str]:
    """GSI1 attributes that put an organization into ``organizations_index``."""
    return {"GSI1PK": "ORGS", "GSI1SK": f"ORG#{org_id}"}


def api_key(org_id: str, secret_hash: str) -> Key:
    """An API key of an organization, addressed by the SHA-256 of its secret."""
    return {"PK": f"ORG#{org_id}", "SK": f"APIKEY#{secret_hash}"}


def api_keys_prefix(org_id: str) -> Key:
    """Partition and sort-key prefix of every API key of an organization."""
    return {"PK": f"ORG#{org_id}", "SK": "APIKEY#"}


def sender(org_id: str, email: str) -> Key:
    """A sender address the organization registered, with what SES last said of it (``email`` lower case)."""
    return {"PK": f"ORG#{org_id}", "SK": f"SENDER#{email}"}


def sender_owner(email: str) -> Key:
    """Which organization an address belongs to: the one item outside any organization's partition,
    because it must be unique across them (``email`` lower case)."""
    return {"PK": f"SENDER#{email}", "SK": "OWNER"}


def user(org_id: str, user_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"USER#{user_id}"}


def users_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "USER#"}


def customer(org_id: str, customer_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"CUS#{customer_id}"}


def customers_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "CUS#"}


NAME_SEPARATOR = "\x1f"
"""Between a name and an id in ``GSI3SK``: below every character a name may hold (no control characters),
so the index orders as ``(name lower case, id)`` does."""


def customers_by_name(org_id: str) -> str:
    """GSI3's partition: an organization's customers, in name order."""
    return f"ORG#{org_id}#CUSTOMERS"


def customer_by_name(org_id: str, name_lower: str, customer_id: str) -> NameOrder:
    """A customer's place in GSI3 (the customer list in name order)."""
    return {"GSI3PK": customers_by_name(org_id), "GSI3SK": f"{name_lower}{NAME_SEPARATOR}{customer_id}"}


def customer_external_id(org_id: str, external_id: str) -> Key:
    """Uniqueness guard and lookup of a customer by its external id."""
    return {"PK": f"ORG#{org_id}", "SK": f"CUSEXT#{external_id}"}


def customer_records(org_id: str, customer_id: str) -> str:
    """GSI1 partition of everything that belongs to one customer (invoices, money, contacts)."""
    return f"ORG#{org_id}#CUS#{customer_id}"


def contact(org_id: str, contact_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"CON#{contact_id}"}


def contact_mail_index_entry(org_id: str, email: str, contact_id: str) -> dict[str, str]:
    """GSI2 attributes that find a contact by its email address, or every contact of its mail domain."""
    domain = email.rpartition("@")[2].lower()
    return {"GSI2PK": f"ORG#{org_id}#MAILDOMAIN#{domain}", "GSI2SK": f"{email.lower()}#{contact_id}"}


def contacts_of_mail_domain(org_id: str, domain: str) -> str:
    return f"ORG#{org_id}#MAILDOMAIN#{domain.lower()}"


def position(org_id: str, position_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"POS#{position_id}"}


def positions_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "POS#"}


def invoice(org_id: str, invoice_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"INV#{invoice_id}"}


def invoice_external_id(org_id: str, external_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"INVEXT#{external_id}"}


LEDGER_PREFIXES = {"payment": "PAY", "credit_note": "CRN", "refund": "REF"}


def money_record(org_id: str, kind: str, record_id: str) -> Key:
    """A payment, credit note or refund."""
    return {"PK": f"ORG#{org_id}", "SK": f"{LEDGER_PREFIXES[kind]}#{record_id}"}


def record_index_entry(org_id: str, customer_id: str, prefix: str, when: str, record_id: str) -> dict[str, str]:
    """GSI1 attributes that list a record under its customer, oldest first within its kind."""
    return {"GSI1PK": customer_records(org_id, customer_id), "GSI1SK": f"{prefix}#{when}#{record_id}"}


def custom_field(org_id: str, key: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"CF#{key}"}


def custom_fields_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "CF#"}


def nightly_run(org_id: str, run_date: str) -> Key:
    """The report of one nightly run for an organization (also its idempotency guard)."""
    return {"PK": f"ORG#{org_id}", "SK": f"RUN#nightly#{run_date}"}


def analytics_snapshot(org_id: str, scope: str, day: str) -> Key:
    """The dashboard's figures for one scope (``all``, or ``user#<id>``: an account manager's customers)
    as the nightly run (or a refresh) computed them on ``day``, the organization's local date."""
    return {"PK": f"ORG#{org_id}", "SK": f"ANALYTICS#{scope}#{day}"}


def analytics_snapshots_prefix(org_id: str, scope: str) -> Key:
    """Every snapshot of one scope, in date order."""
    return {"PK": f"ORG#{org_id}", "SK": f"ANALYTICS#{scope}#"}


def view(org_id: str, view_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"VIEW#{view_id}"}


def views_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "VIEW#"}


def workflow(org_id: str, workflow_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"WF#{workflow_id}"}


def workflows_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "WF#"}


def template(org_id: str, template_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"TPL#{template_id}"}


def templates_prefix(org_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": "TPL#"}


def action(org_id: str, action_id: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"ACT#{action_id}"}


def timeline_entry(org_id: str, subject: str, at: str, entry_id: str) -> Key:
    """A timeline entry of a customer (``CUS#<id>``) or an invoice (``INV#<id>``), newest last by key."""
    return {"PK": f"ORG#{org_id}#TL#{subject}", "SK": f"{at}#{entry_id}"}


def timeline(org_id: str, subject: str) -> str:
    return f"ORG#{org_id}#TL#{subject}"


def customer_subject(customer_id: str) -> str:
    """The ``subject`` of a customer's timeline (in ``timeline`` and ``timeline_entry``)."""
    return f"CUS#{customer_id}"


def invoice_subject(invoice_id: str) -> str:
    """The ``subject`` of an invoice's timeline (in ``timeline`` and ``timeline_entry``)."""
    return f"INV#{invoice_id}"


def portal_link(org_id: str, token_hash: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"PORTAL#{token_hash}"}


def notification(org_id: str, user_id: str, notification_id: str) -> Key:
    """An in-app notification of one user (ids are time-ordered: newest last by key)."""
    return {"PK": f"ORG#{org_id}#NOTIF#{user_id}", "SK": notification_id}


def notifications_of(org_id: str, user_id: str) -> str:
    return f"ORG#{org_id}#NOTIF#{user_id}"


def weekly_digest(org_id: str, week_start: str, user_id: str) -> Key:
    """One person's weekly digest of the week starting ``week_start`` (a Monday): sent once."""
    return {"PK": f"ORG#{org_id}", "SK": f"DIGEST#{week_start}#{user_id}"}


def reply(org_id: str, reply_id: str) -> Key:
    """An inbound customer reply (matched or not), addressed by the id derived from its stored message."""
    return {"PK": f"ORG#{org_id}", "SK": f"RPL#{reply_id}"}


def unmatched_replies(org_id: str) -> str:
    """GSI1 partition of the replies no customer was found for, newest last by GSI1SK."""
    return f"ORG#{org_id}#UNMATCHED"


def unmatched_reply_index_entry(org_id: str, received_at: str, reply_id: str) -> dict[str, str]:
    """GSI1 attributes that put a reply on ``unmatched_replies`` (removed once it is matched)."""
    return {"GSI1PK": unmatched_replies(org_id), "GSI1SK": f"{received_at}#{reply_id}"}


def quarantined_mail(reply_id: str) -> Key:
    """Inbound mail that named no organization: who sent what to whom, for the operators only."""
    return {"PK": quarantine(), "SK": f"RPL#{reply_id}"}


def quarantine() -> str:
    return "QUARANTINE"


def blocked_mail(org_id: str, reply_id: str) -> Key:
    """Inbound mail dropped for a virus: who, when, subject and SES's verdicts, for the admins."""
    return {"PK": f"ORG#{org_id}", "SK": f"BLOCKED#{reply_id}"}


def note(org_id: str, note_id: str) -> Key:
    """A note; listed under its customer in GSI1 as ``NOTE#`` or, pinned, ``PINNED#<createdAt>#<id>``."""
    return {"PK": f"ORG#{org_id}", "SK": f"NOTE#{note_id}"}


def note_listing(pinned: bool) -> str:
    """The prefix a note is listed under its customer with (``record_index_entry``): ``PINNED`` or ``NOTE``."""
    return "PINNED" if pinned else "NOTE"


def request_count(org_id: str, second: int) -> Key:
    """How many API requests the organization made in one wall-clock second (``ttl`` removes it)."""
    return {"PK": f"ORG#{org_id}", "SK": f"RATE#{second}"}


def import_lock(org_id: str, digest: str) -> Key:
    """An import running: the SHA-256 of its type and CSV, so the same file is not imported twice at once."""
    return {"PK": f"ORG#{org_id}", "SK": f"IMPORT#{digest}"}


def checkout(org_id: str, checkout_id: str) -> Key:
    """A portal payment through Stripe Checkout: the invoices it pays and how far it got."""
    return {"PK": f"ORG#{org_id}", "SK": f"CHK#{checkout_id}"}


def exchange_rate(org_id: str, currency: str, day: str) -> Key:
    """The rate of ``currency`` into the organization's currency on ``day`` (ISO date: in date order)."""
    return {"PK": f"ORG#{org_id}", "SK": f"FX#{currency}#{day}"}


def exchange_rates_prefix(org_id: str, currency: str | None = None) -> Key:
    """Every exchange rate of the organization, or of one currency, in currency then date order."""
    return {"PK": f"ORG#{org_id}", "SK": f"FX#{currency}#" if currency else "FX#"}


DIRECTORY_PREFIXES = ("USER#", "VIEW#", "WF#", "CF#", "POS#", "APIKEY#")
"""The organization's small lists that every screen of the web app shows (with the organization)."""
DIRECTORY_VERSION = 2
"""What the directory holds, as a number on the organization's item (``directoryVersion``): raised when
a kind joins it (2: API keys, which name what a key did on a timeline), so that an organization's
older directory is placed again on its first read."""


def directory(org_id: str) -> str:
    """GSI3's partition of an organization's directory: the organization, its users, saved views,
    workflows, custom fields, positions and API keys — one Query reads them all."""
    return f"ORG#{org_id}#DIRECTORY"


def in_directory(org_id: str, key: Key) -> dict[str, str]:
    """The GSI3 keys of an item of the directory: its own sort key, in the directory's partition."""
    return {"GSI3PK": directory(org_id), "GSI3SK": key["SK"]}


def customer_itself(org_id: str, customer_id: str) -> dict[str, str]:
    """The customer's own place in its GSI1 partition (beside its records): the customer page is one Query."""
    return {"GSI1PK": customer_records(org_id, customer_id), "GSI1SK": "CUS"}


def invitation(email: str, invitation_id: str) -> Key:
    """An invitation of an address whose person belongs to another organization: under the address
    (lower case), outside any organization's partition, because only that person reads it."""
    return {"PK": f"INVITEE#{email}", "SK": f"IVT#{invitation_id}"}


def invitations_of(email: str) -> Key:
    """Partition and sort-key prefix of every invitation of an address."""
    return {"PK": f"INVITEE#{email}", "SK": "IVT#"}


def integration(org_id: str, name: str) -> Key:
    """An organization's connection to a source system (``stripe``, ``quickbooks``, ``salesforce``):
    settings, status, cursor, last run and the lease of the run under way."""
    return {"PK": f"ORG#{org_id}", "SK": f"INTEGRATION#{name}"}


def integrations_prefix(org_id: str) -> Key:
    """Every connection of an organization."""
    return {"PK": f"ORG#{org_id}", "SK": "INTEGRATION#"}


def enabled_integrations() -> str:
    """GSI1 partition of every enabled connection, across organizations (the 15-minute schedule)."""
    return "INTEGRATIONS"


def enabled_integration_entry(org_id: str, name: str) -> dict[str, str]:
    """GSI1 attributes that put a connection on ``enabled_integrations`` (removed when it is disabled)."""
    return {"GSI1PK": enabled_integrations(), "GSI1SK": f"ORG#{org_id}#{name}"}


def sync_error(org_id: str, name: str, kind: str, external_id: str) -> Key:
    """A source record a connection could not apply, kept for review until a later run applies it."""
    return {"PK": f"ORG#{org_id}", "SK": f"SYNCERR#{name}#{kind}#{external_id}"}


def sync_errors_prefix(org_id: str, name: str) -> Key:
    return {"PK": f"ORG#{org_id}", "SK": f"SYNCERR#{name}#"}


def write_back(org_id: str, name: str, payment_id: str, invoice_id: str) -> Key:
    """A Relance payment of a synced invoice, for the source to record too: put once, marked when written."""
    return {"PK": f"ORG#{org_id}", "SK": f"SYNCWB#{name}#{payment_id}#{invoice_id}"}


def pending_write_backs(org_id: str, name: str) -> str:
    """GSI1 partition of the write-backs not written yet (an entry leaves it once written)."""
    return f"ORG#{org_id}#SYNCWB#{name}"


def pending_write_back_entry(
    org_id: str, name: str, created_at: str, payment_id: str, invoice_id: str
) -> dict[str, str]:
    """GSI1 attributes that put a write-back on ``pending_write_backs``, oldest first."""
    return {"GSI1PK": pending_write_backs(org_id, name), "GSI1SK": f"{created_at}#{payment_id}#{invoice_id}"}


def source_record(org_id: str, name: str, kind: str, source_id: str) -> Key:
    """A record the source knows by ``source_id`` because Relance wrote it there (a written-back
    payment): ``recordId`` names Relance's own, so the source's copy is not applied a second time."""
    return {"PK": f"ORG#{org_id}", "SK": f"SYNCSRC#{name}#{kind}#{source_id}"}
