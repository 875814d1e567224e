"""The data ``python -m local serve`` starts with: a lived-in demo organization, or an empty one.

Deterministic (seeded random): ~50 customers in USD, EUR and GBP, each with a paying habit
(prompt, average, slow, bad), several hundred invoices over the last ten months, payments
(some partial, some unapplied), credit notes, contacts with positions, one admin and two
account managers who can sign in (their passwords are in the session file), and a few weeks of EUR
and GBP exchange rates into USD, so analytics converts the balances.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

from local import ses_identities
from local import stripe_billing as local_stripe_billing
from relance import clock
from relance.aws import client
from relance.domain.customers import ContactFields, CustomerFields, PaymentMethods
from relance.domain.inbound import VERDICTS, inbound_address
from relance.domain.integrations import ConnectionFields
from relance.domain.ledger import Allocation, CreditNoteFields, InvoiceFields, PaymentFields
from relance.domain.organizations import OrganizationSettings, Principal
from relance.domain.users import Role, UserFields
from relance.ids import new_id
from relance.services import contacts, exchange_rates, inbound, integrations, notes, ratings, team_portal_links
from relance.services.contacts import new_contact_item
from relance.services.customers import new_customer_item
from relance.services.ledger import new_invoice_item, new_money_record, settled_invoice
from relance.services.nightly import ledger_state
from relance.services.notes import NoteFields
from relance.services.nudges import nudge
from relance.services.organization_admin import create_organization, update_settings
from relance.services.organizations import get_organization
from relance.services.users import create_user
from relance.services.workflows import list_workflows
from relance.settings import get_settings
from relance.storage import contacts as contact_store
from relance.storage import customers as customer_store
from relance.storage import ledger as ledger_store
from relance.storage.table import table

DEMO_ORGANIZATION = "Demo Trading Ltd"
EMPTY_ORGANIZATION = "My Organization"
DEMO_SENDER = "ar@demo.relance.dev"
DEMO_AR_MAILBOX = "ar-inbox@demo.relance.dev"  # where portal messages go
DEMO_PASSWORD = "Relance-Demo-2026"  # noqa: S105 (the local demo's published password)

BOUNCED = "550 5.1.1 The email account that you tried to reach does not exist (permanent bounce)"
USERS = [
    ("alice.admin@demo.relance.dev", "Alice Martin", Role.ADMIN),
    ("marc.manager@demo.relance.dev", "Marc Dubois", Role.ACCOUNT_MANAGER),
    ("sofia.manager@demo.relance.dev", "Sofia Rossi", Role.ACCOUNT_MANAGER),
]
FIRST = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Gringotts",
    "Oscorp",
    "Monarch",
    "Pied Piper",
    "Nakatomi",
    "Aperture",
    "Black Mesa",
    "Duff",
    "Krusty",
    "Bluth",
    "Dunder",
    "Sterling",
    "Prestige",
]
SECOND = ["Industries", "Logistics"]
CURRENCIES = ["USD"] * 6 + ["EUR"] * 3 + ["GBP"]
RATES = {
    "EUR": ("1.0712", "1.0764", "1.0801", "1.0843"),
    "GBP": ("1.2577", "1.2614", "1.2650", "1.2633"),
    "JPY": ("0.006671", "0.006702", "0.006655", "0.006689"),  # the Stripe account's customers in Japan
}
"""Weekly rates into USD (the demo's currency) of its other currencies, the latest a day ago."""
STRIPE_ACCOUNT = "Northwind Software"
"""The demo organization's own Stripe account (the local stand-in's), its second source of customers."""
HABITS = {"prompt": (-5, 10), "average": (5, 40), "slow": (30, 75), "bad": (60, 130)}
FIRST_NAMES = [
    "Emma",
    "Liam",
    "Noah",
    "Olivia",
    "Ava",
    "Lucas",
    "Mia",
    "Hugo",
    "Chloe",
    "Leo",
    "Zoe",
    "Jules",
]
LAST_NAMES = [
    "Smith",
    "Bernard",
    "Garcia",
    "Müller",
    "Rossi",
    "Nguyen",
    "Dupont",
    "Kowalski",
    "Silva",
    "Brown",
]


def seed(*, demo: bool) -> dict[str, Any]:
    """Create the first organization (with demo data when asked); returns its session facts."""
    organization, api_key = create_organization(DEMO_ORGANIZATION if demo else EMPTY_ORGANIZATION)
    session: dict[str, Any] = {
        "organization": {"id": organization.id, "name": organization.name},
        "apiKey": api_key,
        "users": [],
    }
    if demo:
        admin = Principal(organization_id=organization.id, role="admin", principal_id="seed")
        session["users"] = populate(admin)
        session["demoPortalUrl"] = demo_portal_link(admin)
        stripe_account = connect_stripe_billing(admin)
        if stripe_account is not None:
            session["stripeBilling"] = stripe_account
    return session


def connect_stripe_billing(admin: Principal) -> dict[str, str] | None:
    """The demo organization bills from a Stripe account of its own too (the local stand-in's): connected
    as an administrator connects one, with its key and the signing secret of its webhook endpoint, which
    points at Relance. The run that queues brings its company in (11 customers, ~30 invoices, in USD, EUR
    and JPY) beside the demo's 50, once the runtime serves; the dev page's "Stripe: …" buttons change it."""
    stand_in = local_stripe_billing.current()
    if stand_in is None:
        return None
    account = stand_in.open_account(STRIPE_ACCOUNT)
    account.webhook_url = integrations.webhook_url(admin.organization_id, "stripe")
    secret = {"apiKey": account.api_key, "webhookSecret": account.webhook_secret}
    fields = ConnectionFields(enabled=True, settings={"accountName": account.name}, secret=secret)
    integrations.put_connection(admin, "stripe", fields)
    return {"account": account.name, "apiKey": account.api_key}


def demo_portal_link(admin: Principal) -> str:
    """A portal link of the demo customer owing the most, to try the portal straight away."""
    owing = max(
        customer_store.list_customers(admin.organization_id),
        key=lambda c: sum(int(item["outstanding"]) for item in (c.get("openItems") or {}).values()),
    )
    return team_portal_links.create(admin, owing["id"], team_portal_links.PortalLinkRequest(expires_in_days=1000)).url


def populate(admin: Principal, customers: int = 50) -> list[dict[str, str]]:
    """Fill the organization; returns the people who can sign in.

    Built in memory with the services' own item builders and the domain's settlement rules,
    then written in batches (going through the API one call at a time takes minutes on
    moto); the nightly reconciliation finds no drift in it (tests/integration/test_demo.py).
    """
    rng = random.Random(2026)  # noqa: S311 (demo data, not secrets)
    org_id = admin.organization_id
    users = [  # the admin asks for the weekly digest: a Monday night puts one in the outbox
        create_user(
            admin,
            UserFields(email=email, name=name, role=role, weekly_digest=role == Role.ADMIN),
            password=DEMO_PASSWORD,
        )
        for email, name, role in USERS
    ]
    managers = [u.id for u in users if u.role == Role.ACCOUNT_MANAGER]
    positions = {p.name: p.id for p in contacts.list_positions(admin)}
    settings = get_organization(org_id).settings.model_copy(
        update={
            "sender_email": DEMO_SENDER,
            "sender_name": "Demo Trading — Accounts receivable",
            "timezone": "Europe/Paris",
            "ar_email": DEMO_AR_MAILBOX,
            # The demo clock runs fast (a day in 10 s): links from reminders stay open a while.
            "portal_link_validity_days": 90,
        }
    )
    organization = update_settings(admin, settings)  # registers the sender: SES emails it a verification link
    ses_identities.verify(DEMO_SENDER)  # ... which the demo clicks at once, so reminders go out
    workflows = {(w.language, w.name.split(" ")[0]): w.id for w in list_workflows(admin)}
    now = clock.now()
    names = [f"{a} {b}" for a in FIRST for b in SECOND]
    rng.shuffle(names)
    items: list[dict[str, Any]] = []
    for index in range(customers):
        language = "fr" if rng.random() < 0.25 else "en"
        habit = rng.choice(list(HABITS))
        plan = "Firm" if habit == "bad" else "Standard"
        fields = CustomerFields(
            external_id=f"ERP-{1000 + index}",
            name=names[index],
            currency=rng.choice(CURRENCIES),
            language=language,
            dunning_plan_id=workflows[(language, "Ferme" if language == "fr" and plan == "Firm" else plan)],
            account_manager_ids=[managers[index % len(managers)]] if index % 5 else [],
            payment_methods=PaymentMethods(
                card=True, bank_transfer=True, ach_debit=rng.random() < 0.3, sepa_debit=index % 2 == 0
            ),
            tags=rng.sample(["key-account", "public-sector", "retail", "wholesale"], k=rng.randint(0, 2)),
        )
        customer = new_customer_item(organization, fields, now.isoformat())
        people = _contacts(customer["id"], positions, rng, now.isoformat())
        customer["mainContactId"] = people[0]["id"]
        if index == 3:  # an address that bounced: the customer page offers to mark it valid again
            people[-1].update(invalid=True, invalidSince=now.isoformat(), invalidReason=BOUNCED)
        invoices, money = _ledger(customer["id"], customer["currency"], habit, now.date(), rng)
        customer.update(ledger_state(invoices, money, []))
        items += [entry["Put"]["Item"] for entry in customer_store.create_entries(org_id, customer)]
        items += [contact_store.contact_item(org_id, person) for person in people]
        for invoice in invoices:
            items += [entry["Put"]["Item"] for entry in ledger_store.new_invoice_entries(org_id, invoice)]
        for record in money:
            when = record.get("receivedAt") or record["issuedAt"]
            items.append(ledger_store.new_record_entry(org_id, record["kind"], record, when)["Put"]["Item"])
    write_all(items)
    basis = ratings.basis_of(org_id)
    for item in items:
        if item["SK"].startswith("CUS#"):
            ratings.refresh(org_id, item["id"], basis)
            nudge(org_id, item["id"])  # its workflow starts
    _exchange_rates(admin, organization.settings)
    managed = next(i for i in items if i["SK"].startswith("CUS#") and i.get("accountManagerIds"))
    _conversation(
        org_id,
        users,
        managed,
        next(i for i in items if i.get("customerId") == managed["id"] and i["SK"].startswith("CON#")),
    )
    return [{"email": u.email, "role": u.role.value, "password": DEMO_PASSWORD, "name": u.name} for u in users]


def _conversation(org_id: str, users: list[Any], customer: dict[str, Any], contact: dict[str, Any]) -> None:
    """A pinned note mentioning a colleague, and a reply of the customer's, through the real code paths."""
    manager = next(u for u in users if u.id == customer["accountManagerIds"][0])
    # Only someone who sees the customer can be mentioned: an admin, or another of its account managers.
    colleague = next(
        u for u in users if u.id != manager.id and (u.role.value == "admin" or u.id in customer["accountManagerIds"])
    )
    author = Principal(organization_id=org_id, role=manager.role.value, principal_id=manager.id, user_id=manager.id)
    notes.create(
        author,
        customer["id"],
        NoteFields(
            body=f"Their AP team pays on the 15th and 30th only. @{colleague.id} they asked for a statement.",
            pinned=True,
        ),
    )
    mail = EmailMessage()
    mail["From"] = f"{contact.get('firstName', '')} {contact.get('lastName', '')} <{contact['email']}>".strip()
    address = inbound_address(org_id, get_settings().reply_domain)  # the organization's own, as on AWS
    mail["To"] = address
    mail["Subject"] = "Question about our open invoices"
    mail["Message-ID"] = f"<demo-{customer['id']}@customer.example>"
    mail.set_content("Hello,\n\nCould you send us a copy of the oldest invoice? We cannot find it.\n\nThanks")
    bucket, key = get_settings().documents_bucket, f"demo/inbound/{customer['id']}"
    client("s3").put_object(Bucket=bucket, Key=key, Body=bytes(mail))
    passing = dict.fromkeys(VERDICTS, "PASS")  # what SES says of a customer's genuine mail
    inbound.receive(bucket, key, [address], passing)  # matched by its sender, as SES inbound would deliver it


def _exchange_rates(admin: Principal, settings: OrganizationSettings) -> None:
    """A few weeks of rates, imported as an admin would, so analytics shows its converted total."""
    last = exchange_rates.today(settings) - timedelta(days=1)
    lines = [
        f"{currency},{last - timedelta(weeks=len(values) - 1 - week)},{value}"
        for currency, values in RATES.items()
        for week, value in enumerate(values)
    ]
    exchange_rates.import_rates(admin, "\n".join(["currency,date,rate", *lines]))


def _contacts(customer_id: str, positions: dict[str, str], rng: random.Random, now: str) -> list[dict[str, Any]]:
    people = []
    for position in rng.sample(["Accountant", "Payer", "Purchaser", "Sales"], k=rng.randint(1, 3)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{customer_id[-6:]}@customer.example".lower().replace("ü", "u")
        fields = ContactFields(email=email, first_name=first, last_name=last, position_id=positions[position])
        people.append(new_contact_item(customer_id, fields, now))
    return people


def _ledger(
    customer_id: str, currency: str, habit: str, today: date, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Invoices over ten months, paid according to the customer's habit; some partly, some not yet."""
    low, high = HABITS[habit]
    now = clock.now().isoformat()
    invoices, money = [], []
    for number in range(rng.randint(4, 11)):
        issued = today - timedelta(days=rng.randint(5, 300))
        due = issued + timedelta(days=rng.choice([15, 30, 45, 60]))
        amount = rng.randint(20, 1500) * 1000 + rng.choice([0, 500, 990])
        invoice = new_invoice_item(
            InvoiceFields(
                customer_id=customer_id,
                external_id=f"{customer_id[-6:]}-{number}",
                number=f"INV-{issued.year}-{rng.randint(10000, 99999)}",
                currency=currency,
                amount=amount,
                issued_at=issued,
                due_at=due,
            ),
            now,
        )
        paid_on = due + timedelta(days=rng.randint(low, high))
        roll = rng.random()
        if paid_on < today and roll < 0.08:
            fields: PaymentFields | CreditNoteFields = CreditNoteFields(
                customer_id=customer_id,
                amount=amount // 10,
                currency=currency,
                issued_at=paid_on,
                allocations=[Allocation(invoice_id=invoice["id"], amount=amount // 10)],
            )
            money.append(new_money_record("credit_note", fields, new_id("crn"), now))
            invoice = settled_invoice(invoice, "credit_note", amount // 10, paid_on, "amount")
        elif paid_on < today:
            part = amount if roll > 0.15 else amount // 2  # a few partial payments
            extra = rng.choice([0] * 9 + [5000])  # now and then an overpayment left unapplied
            fields = PaymentFields(
                customer_id=customer_id,
                amount=part + extra,
                currency=currency,
                received_at=paid_on,
                allocations=[Allocation(invoice_id=invoice["id"], amount=part)],
                reference=f"BANK-{rng.randint(100000, 999999)}",
            )
            money.append(new_money_record("payment", fields, new_id("pay"), now))
            invoice = settled_invoice(invoice, "payment", part, paid_on, "amount")
        invoices.append(invoice)
    return invoices, money


def write_all(items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 items a request (boto3's batch writer resends unprocessed items)."""
    with table().batch_writer() as batch:
        for item in items:
            batch.put_item(Item=item)
