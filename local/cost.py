"""``python -m local.cost``: Relance's monthly AWS bill for 100, 1,000 and 10,000 customers (docs/cost.md).

Pure arithmetic over four tables, each kept apart so it can be updated alone: ``PRICES`` (AWS list
prices, us-east-1, with their date), ``MIX`` (what one customer causes in a month), ``BENCH_FIGURES``
and ``ONE_OFF_COUNTS`` (what one operation costs in requests, transitions and invocations, as
measured) and ``ESTIMATES`` (what nothing measures yet). No free tier is applied unless asked.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

# ---------------------------------------------------------------- prices


@dataclass(frozen=True)
class Price:
    """One AWS list price: ``usd`` for every ``per`` ``unit``; ``free`` units a month are always free."""

    line: str
    usd: float
    per: float
    unit: str
    covers: str
    free: float = 0.0


PRICES_AS_OF = "June 2025"
"""The date of PRICES: AWS's public list prices for us-east-1 as of then, written without network
access on 2026-11-30: check them on aws.amazon.com/pricing before quoting a figure."""

PRICES: dict[str, Price] = {
    "lambda_requests": Price("Lambda requests", 0.20, 1e6, "requests", "x86, every invocation", free=1e6),
    "lambda_compute": Price(
        "Lambda compute",
        0.0000166667,
        1,
        "GB-s",
        "x86, first 6 billion GB-s; INIT billed since 2025-08-01",
        free=400_000,
    ),
    "sfn_transitions": Price(
        "Step Functions Standard", 0.025, 1_000, "state transitions", "Standard workflows", free=4_000
    ),
    "dynamodb_reads": Price("DynamoDB reads", 0.125, 1e6, "read request units", "on-demand, Standard table class"),
    "dynamodb_writes": Price("DynamoDB writes", 0.625, 1e6, "write request units", "on-demand, Standard table class"),
    "dynamodb_storage": Price("DynamoDB storage", 0.25, 1, "GB-month", "table and index storage", free=25),
    "dynamodb_pitr": Price(
        "DynamoDB backups (PITR)", 0.20, 1, "GB-month", "point-in-time recovery (enabled in template.yaml)"
    ),
    "ses_outbound": Price("SES sending", 0.10, 1_000, "emails sent", "outbound; the free tier is 12 months only"),
    "ses_inbound": Price(
        "SES receiving", 0.10, 1_000, "emails received", "inbound (plus $0.09 per 1,000 256 KB chunks)"
    ),
    "sns_publishes": Price("SNS", 0.50, 1e6, "publishes", "standard topics; deliveries to SQS are free", free=1e6),
    "sqs_requests": Price("SQS", 0.40, 1e6, "requests", "standard queues, 64 KB chunks", free=1e6),
    "s3_puts": Price("S3 PUT", 0.005, 1_000, "PUT requests", "S3 Standard"),
    "s3_gets": Price("S3 GET", 0.0004, 1_000, "GET requests", "S3 Standard"),
    "s3_storage": Price("S3 storage", 0.023, 1, "GB-month", "S3 Standard, first 50 TB"),
    "api_gateway": Price(
        "API Gateway (REST)", 3.50, 1e6, "REST API calls", "REST API, first 333 million; free tier 12 months"
    ),
    "cognito_mau": Price(
        "Cognito users", 0.015, 1, "monthly active users", "Essentials tier (the default of new pools)", free=10_000
    ),
    "logs_ingestion": Price("CloudWatch Logs ingestion", 0.50, 1, "GB ingested", "standard log class", free=5),
    "logs_storage": Price("CloudWatch Logs storage", 0.03, 1, "GB-month stored", "90-day retention in template.yaml"),
    "xray_traces": Price("X-Ray", 5.00, 1e6, "traces recorded", "Tracing: Active everywhere", free=100_000),
    "secrets": Price("Secrets Manager", 0.40, 1, "secret-months", "WebSecret and StripeSecret"),
    "alarms": Price("CloudWatch alarms", 0.10, 1, "alarm-months", "standard-resolution alarms", free=10),
}

# ---------------------------------------------------------------- what a customer causes in a month


@dataclass(frozen=True)
class Mix:
    """One customer's month at a B2B AR team (the reasons are in docs/cost.md)."""

    invoices: float = 4  # synced from the accounting system through the API, one POST each
    payments: float = 3  # the same; most invoices are paid, some together
    reminders: float = 3  # emails sent by dunning (7 days apart at least: Standard's minimum contact delay)
    mail_events_per_email: float = 2.5  # Send and Delivery always, Open for about half
    api_summaries: float = 2  # GET /v1/customers/{id} by the sync
    api_list_pages: float = 0.6  # a nightly sync of the list: 20 pages of 50 per 1,000 customers, 30 nights
    portal_visits: float = 1
    statement_pdfs: float = 0.3
    web_customer_pages: float = 2  # the AR team's screens: ~3,000 pages a month per 1,000 customers
    web_list_pages: float = 1
    replies: float = 0.2  # a customer answers one reminder in fifteen
    nights: float = 30
    months_of_history: float = 24  # what the table holds (storage, the nightly reads of the ledger)
    users_per_1000_customers: float = 3  # the AR team signing in (Cognito MAU); at least one


MIX = Mix()

# ---------------------------------------------------------------- what one operation costs, measured

BENCH_DATE = "2026-11-30"
LIST = "customer list, 10,000 customers, filtered page of 50"
WEB_LIST = "web customer list, 10,000 customers, filtered page of 50 in name order"

BENCH_FIGURES: dict[str, float] = {
    # `make bench` figures of BENCH_DATE, under the names the bench prints (tests/bench/*.py): a later
    # bench replaces a value here and the bill follows.
    "one reminder: state transitions": 4,  # test_bench_dunning.py: Wait, Act (plans next), Next?, Done
    "one reminder: Lambda invocations (Plan, Act that plans next)": 2,
    "one reminder: DynamoDB requests made by Plan and Act": 12,
    "customer summary: DynamoDB requests per call (authorizer included)": 3,  # test_bench_ledger.py
    f"{LIST}: DynamoDB requests per page (authorizer included)": 5,
    "web customer page: DynamoDB requests": 3,  # test_bench_web.py
    f"{WEB_LIST}: DynamoDB requests per page": 4,
    "web customer page: seconds": 0.09,
    f"{WEB_LIST}: seconds per page (its count follows apart)": 0.77,
    f"{LIST}: seconds per page sorted by outstanding (reads every customer)": 6.44,
    "test_api_function_cold_import: mean seconds": 0.42,  # test_bench_api.py: the handler and the customers router
}

ONE_OFF_COUNTS: dict[str, float] = {
    # What no bench prints yet, counted once on BENCH_DATE on the local runtime with the bench's own
    # botocore hooks (tests/bench/conftest.py), split by operation and by function; docs/cost.md says how.
    "run start (Plan function, Wait): DynamoDB reads": 3,
    "run start (Plan function, Wait): DynamoDB writes": 1,
    "run start (Plan function, Wait): state transitions": 1,
    "reminder (Act that plans next): DynamoDB requests": 8,
    "reminder (Act that plans next): DynamoDB writes": 4,
    "invoice created (API, authorizer included): DynamoDB reads": 6,
    "invoice created (API, authorizer included): DynamoDB writes": 4,
    "payment recorded (API, authorizer included): DynamoDB reads": 8,
    "payment recorded (API, authorizer included): DynamoDB writes": 5,
    "customer summary and list page (API): DynamoDB writes": 1,  # the organization's request count
    "mail event (MailEvents): DynamoDB reads": 1,
    "mail event (MailEvents): DynamoDB writes": 3,
    "portal page: DynamoDB reads": 7,
    "portal page: DynamoDB writes": 2,
    "statement PDF: DynamoDB reads": 7,
    "nightly, per customer: DynamoDB reads": 3,  # its item, its ledger in two Queries (test_nightly.py)
    "nightly, per customer: DynamoDB writes": 1,  # the rating, written every night
    "nightly, per organization: DynamoDB reads": 21,
    "nightly, per organization: DynamoDB writes": 3,
    "read request units per read request": 0.67,  # items under 4 KB, mostly eventually consistent
    "write request units per write request": 4.7,  # 1-2 KB items, in one or two GSIs, transactions twice
}

ESTIMATES: dict[str, float] = {
    # What nothing measures yet: a deployment's CloudWatch REPORT lines and its bill would replace them.
    "read request units per read request": 1.0,  # ONE_OFF_COUNTS' 0.67, rounded up
    "write request units per write request": 5.0,  # ONE_OFF_COUNTS' 4.7, rounded up
    "cold starts per invocation": 0.1,  # each billed for its INIT (the cold import above)
    "log KB per invocation": 1.0,  # START/END/REPORT lines and Powertools' JSON lines
    "stored KB per customer-month": 25,  # invoices, payments, actions, timeline; GSI copies included
    "customer KB": 1.7,  # a customer item, as the one-off count found them
    "ledger KB per invoice": 0.75,  # an invoice item (0.72 KB a payment), as the one-off count found them
    "nightly reads of a customer's invoices": 2,  # its ledger (reconcile, rating, promises, in flight), analytics
    "nightly reads of a customer's payments": 2,  # its ledger, analytics
    "analytics seconds per invoice": 0.00035,  # docs/analytics.md: 0.25-0.35 s per 1,000 invoices
    "inbound mail KB per reply": 50,
    "idle SQS requests per queue-month": 648_000,  # Lambda's pollers: 5 long polls of 20 s, all month
}

FUNCTION_MEMORY_MB: dict[str, int] = {
    # template.yaml: Globals' MemorySize and the functions that override it (a unit test keeps them equal)
    "default": 512,
    "NightlyWorkerFunction": 1769,
    "InboundMailFunction": 1024,
}

DEPLOYMENT: dict[str, float] = {
    # What a deployment has whatever its size (template.yaml; a unit test keeps them equal)
    "secrets": 2,
    "alarms": 8,
    "queues polled by Lambda": 3,  # nudges, mail events, inbound mail (the nightly and sync runs: invocations)
}


@dataclass(frozen=True)
class Invocation:
    """Work done by one function: ``requests`` invocations (0 for work inside another's) of ``seconds``."""

    function: str
    seconds: float
    requests: float = 1.0


@dataclass(frozen=True)
class Operation:
    """What one occurrence of something a customer causes costs, in counts (never in dollars)."""

    source: str
    invocations: tuple[Invocation, ...] = ()
    dynamodb_reads: float = 0
    dynamodb_writes: float = 0
    transitions: float = 0
    api_requests: float = 0
    emails_sent: float = 0
    emails_received: float = 0
    sns_publishes: float = 0
    sqs_requests: float = 0
    s3_puts: float = 0
    s3_gets: float = 0


def operations(
    bench: Mapping[str, float] = BENCH_FIGURES, counts: Mapping[str, float] = ONE_OFF_COUNTS
) -> dict[str, Operation]:
    """Every operation of the mix, from the measured figures (seconds are estimates: docs/cost.md)."""
    start_reads = counts["run start (Plan function, Wait): DynamoDB reads"]
    start_writes = counts["run start (Plan function, Wait): DynamoDB writes"]
    start_transitions = counts["run start (Plan function, Wait): state transitions"]
    # A reminder in a running execution (Wait, Act that plans next, Next?): the bench's one-reminder execution
    # less its start.
    reminder_requests = bench["one reminder: DynamoDB requests made by Plan and Act"] - start_reads - start_writes
    reminder = "reminder (Act that plans next)"
    write_share = counts[f"{reminder}: DynamoDB writes"] / counts[f"{reminder}: DynamoDB requests"]
    reminder_writes = reminder_requests * write_share
    summary = bench["customer summary: DynamoDB requests per call (authorizer included)"]
    page = bench[f"{LIST}: DynamoDB requests per page (authorizer included)"]
    api_writes = counts["customer summary and list page (API): DynamoDB writes"]
    api = (Invocation("AuthorizerFunction", 0.05),)
    return {
        "invoice created (API)": Operation(
            "one-off count",
            (*api, Invocation("ApiFunction", 0.2)),
            counts["invoice created (API, authorizer included): DynamoDB reads"],
            counts["invoice created (API, authorizer included): DynamoDB writes"],
            api_requests=1,
        ),
        "payment recorded (API)": Operation(
            "one-off count",
            (*api, Invocation("ApiFunction", 0.3)),
            counts["payment recorded (API, authorizer included): DynamoDB reads"],
            counts["payment recorded (API, authorizer included): DynamoDB writes"],
            api_requests=1,
        ),
        "dunning restarted (Plan function, Wait)": Operation(
            "one-off count", (Invocation("DunningPlanFunction", 0.2),), start_reads, start_writes, start_transitions
        ),
        "reminder sent (Act that plans next, Next?, Wait)": Operation(
            "bench, less the execution's start",
            (Invocation("DunningActFunction", 0.6),),  # Act plans the next action itself
            reminder_requests - reminder_writes,
            reminder_writes,
            bench["one reminder: state transitions"] - start_transitions,
            emails_sent=1,
        ),
        "mail event (SES, SNS, SQS, MailEvents)": Operation(
            "one-off count",
            (Invocation("MailEventsFunction", 0.1),),
            counts["mail event (MailEvents): DynamoDB reads"],
            counts["mail event (MailEvents): DynamoDB writes"],
            sns_publishes=1,
            sqs_requests=3,  # sent by SNS, received, deleted
        ),
        "customer summary (API)": Operation(
            "bench", (*api, Invocation("ApiFunction", 0.15)), summary - api_writes, api_writes, api_requests=1
        ),
        "customer list page (API)": Operation(
            "bench", (*api, Invocation("ApiFunction", 0.3)), page - api_writes, api_writes, api_requests=1
        ),
        "portal page": Operation(
            "one-off count",
            (Invocation("PortalFunction", 0.4),),
            counts["portal page: DynamoDB reads"],
            counts["portal page: DynamoDB writes"],
            api_requests=1,
        ),
        "statement PDF": Operation(
            "one-off count",
            (Invocation("PortalFunction", 0.5),),
            counts["statement PDF: DynamoDB reads"],
            api_requests=1,
        ),
        "web customer page": Operation(
            "bench",
            (Invocation("WebFunction", bench["web customer page: seconds"]),),
            bench["web customer page: DynamoDB requests"],
            api_requests=1,
        ),
        "web customer list page": Operation(
            "bench",
            (Invocation("WebFunction", bench[f"{WEB_LIST}: seconds per page (its count follows apart)"]),),
            bench[f"{WEB_LIST}: DynamoDB requests per page"],
            api_requests=1,  # its count follows in a request of its own: list_counts
        ),
        "customer reply (inbound mail)": Operation(
            "estimate",
            (Invocation("InboundMailFunction", 1.0),),
            6,
            4,
            emails_received=1,
            sns_publishes=1,
            sqs_requests=3,
            s3_puts=1,
            s3_gets=1,
        ),
        "nightly, per customer": Operation(
            "one-off count",
            (Invocation("NightlyWorkerFunction", 0.1, requests=0),),
            counts["nightly, per customer: DynamoDB reads"],
            counts["nightly, per customer: DynamoDB writes"],
        ),
        "nightly, per organization": Operation(
            "one-off count",
            (Invocation("NightlyScheduleFunction", 0.1), Invocation("NightlyWorkerFunction", 1.0)),
            counts["nightly, per organization: DynamoDB reads"],
            counts["nightly, per organization: DynamoDB writes"],
        ),  # the worker invoked asynchronously: Lambda's own queue, no SQS request
        # The source-system sync's schedule (docs/integrations.md): every 15 minutes, one Query of the
        # enabled connections; a connection's runs are the invoices and payments of the mix.
        "sync fan-out, per quarter hour": Operation(
            "estimate", (Invocation("SyncScheduleFunction", 0.05),), dynamodb_reads=1
        ),
    }


def occurrences(mix: Mix) -> dict[str, float]:
    """How often each operation happens per customer and month."""
    return {
        "invoice created (API)": mix.invoices,
        "payment recorded (API)": mix.payments,
        "dunning restarted (Plan function, Wait)": mix.invoices + mix.payments,  # each nudges the customer's dunning
        "reminder sent (Act that plans next, Next?, Wait)": mix.reminders,
        "mail event (SES, SNS, SQS, MailEvents)": mix.reminders * mix.mail_events_per_email,
        "customer summary (API)": mix.api_summaries,
        "customer list page (API)": mix.api_list_pages,
        "portal page": mix.portal_visits,
        "statement PDF": mix.statement_pdfs,
        "web customer page": mix.web_customer_pages,
        "web customer list page": mix.web_list_pages,
        "customer reply (inbound mail)": mix.replies,
        "nightly, per customer": mix.nights,
    }


# ---------------------------------------------------------------- usage and bill

Usage = dict[str, float]
"""Quantities per line of PRICES, in that line's unit."""


def _memory_gb(function: str) -> float:
    return FUNCTION_MEMORY_MB.get(function, FUNCTION_MEMORY_MB["default"]) / 1024


def usage_of(operation: Operation, times: float, bench: Mapping[str, float] = BENCH_FIGURES) -> Usage:
    """What ``times`` occurrences of ``operation`` use, line by line."""
    used: Usage = defaultdict(float)
    init_seconds = ESTIMATES["cold starts per invocation"] * bench["test_api_function_cold_import: mean seconds"]
    for call in operation.invocations:
        used["lambda_requests"] += times * call.requests
        used["lambda_compute"] += times * _memory_gb(call.function) * (call.seconds + call.requests * init_seconds)
        used["logs_ingestion"] += times * call.requests * ESTIMATES["log KB per invocation"] / 1024**2
    invoked = sum(call.requests for call in operation.invocations)
    used["xray_traces"] += times * (operation.api_requests or invoked)
    used["dynamodb_reads"] += times * operation.dynamodb_reads * ESTIMATES["read request units per read request"]
    used["dynamodb_writes"] += times * operation.dynamodb_writes * ESTIMATES["write request units per write request"]
    used["sfn_transitions"] += times * operation.transitions
    used["api_gateway"] += times * operation.api_requests
    used["ses_outbound"] += times * operation.emails_sent
    used["ses_inbound"] += times * operation.emails_received
    used["sns_publishes"] += times * operation.sns_publishes
    used["sqs_requests"] += times * operation.sqs_requests
    used["s3_puts"] += times * operation.s3_puts
    used["s3_gets"] += times * operation.s3_gets
    return used


def _add(total: Usage, more: Mapping[str, float]) -> None:
    for line, quantity in more.items():
        total[line] = total.get(line, 0.0) + quantity


def per_customer(mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES) -> Usage:
    """One customer's month, everything that grows with the number of customers."""
    used: Usage = {}
    known = operations(bench)
    for name, times in occurrences(mix).items():
        _add(used, usage_of(known[name], times, bench))
    history_invoices = mix.months_of_history * mix.invoices
    history_payments = mix.months_of_history * mix.payments
    read_records = (
        ESTIMATES["nightly reads of a customer's invoices"] * history_invoices
        + ESTIMATES["nightly reads of a customer's payments"] * history_payments
    )
    read_kb = read_records * ESTIMATES["ledger KB per invoice"]
    nightly_reads = read_kb / 4 * 0.5  # Query pages: half a unit per 4 KB, eventually consistent
    analytics_seconds = history_invoices * ESTIMATES["analytics seconds per invoice"]
    stored_gb = mix.months_of_history * ESTIMATES["stored KB per customer-month"] / 1024**2
    _add(
        used,
        {
            "dynamodb_reads": mix.nights * nightly_reads,
            "lambda_compute": mix.nights * analytics_seconds * _memory_gb("NightlyWorkerFunction"),
            "dynamodb_storage": stored_gb,
            "dynamodb_pitr": stored_gb,
            "s3_storage": mix.months_of_history * mix.replies * ESTIMATES["inbound mail KB per reply"] / 1024**2,
        },
    )
    used["logs_storage"] = 3 * used.get("logs_ingestion", 0.0)  # 90 days kept
    return used


def per_deployment(mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES) -> Usage:
    """What a deployment (one organization) uses whatever its number of customers."""
    used: Usage = dict(usage_of(operations(bench)["nightly, per organization"], mix.nights, bench))
    _add(used, usage_of(operations(bench)["sync fan-out, per quarter hour"], mix.nights * 96, bench))
    used["logs_storage"] = 3 * used.get("logs_ingestion", 0.0)
    _add(
        used,
        {
            "secrets": DEPLOYMENT["secrets"],
            "alarms": DEPLOYMENT["alarms"],
            "sqs_requests": DEPLOYMENT["queues polled by Lambda"] * ESTIMATES["idle SQS requests per queue-month"],
        },
    )
    return used


def list_counts(customers: int, mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES) -> Usage:
    """The web list's count, which reads every customer on every view: it grows with the square of the
    number of customers (each of them brings views, each view reads all of them)."""
    views = customers * mix.web_list_pages
    seconds = customers * bench[f"{LIST}: seconds per page sorted by outstanding (reads every customer)"] / 10_000
    count = Operation("bench", (Invocation("WebFunction", seconds),), api_requests=1)
    used = usage_of(count, views, bench)
    used["dynamodb_reads"] += views * customers * ESTIMATES["customer KB"] / 4 * 0.5  # Query pages, eventual
    return used


def monthly_usage(customers: int, mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES) -> Usage:
    """A deployment's month with ``customers`` customers."""
    used = {line: quantity * customers for line, quantity in per_customer(mix, bench).items()}
    _add(used, per_deployment(mix, bench))
    _add(used, list_counts(customers, mix, bench))
    used["cognito_mau"] = max(1.0, math.ceil(customers * mix.users_per_1000_customers / 1000))
    return used


@dataclass(frozen=True)
class Line:
    key: str
    quantity: float
    usd: float


@dataclass(frozen=True)
class Bill:
    customers: int
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    @property
    def per_thousand(self) -> float:
        return self.total / self.customers * 1000

    @property
    def largest(self) -> Line:
        return max(self.lines, key=lambda line: line.usd)


def cost(key: str, quantity: float, *, free_tiers: bool = False, prices: Mapping[str, Price] = PRICES) -> float:
    """The dollars of ``quantity`` units of the line ``key`` (less its always-free allowance if asked)."""
    price = prices[key]
    billed = max(0.0, quantity - price.free) if free_tiers else quantity
    return billed / price.per * price.usd


def bill(
    customers: int, mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES, *, free_tiers: bool = False
) -> Bill:
    """A deployment's monthly bill with ``customers`` customers, one line per entry of PRICES."""
    used = monthly_usage(customers, mix, bench)
    lines = tuple(Line(key, used.get(key, 0.0), cost(key, used.get(key, 0.0), free_tiers=free_tiers)) for key in PRICES)
    return Bill(customers, lines)


# ---------------------------------------------------------------- Standard or Express


@dataclass(frozen=True)
class Workflows:
    """The dunning state machine's month per 1,000 customers, as Standard and as if it could be Express."""

    standard: float
    express: float
    express_possible: bool = False
    why: str = (
        "An execution chases one customer for weeks: its Wait states sleep until the next action's moment. "
        "Express executions last at most 5 minutes, and asynchronous ones run at least once where Standard "
        "runs exactly once and keeps a 90-day history of every step."
    )


EXPRESS_USD_PER_EXECUTION = 1.00 / 1e6
EXPRESS_USD_PER_GB_SECOND = 0.00001667  # first 1,000 GB-hours, billed by 64 MB and 100 ms
SCHEDULER_USD_PER_INVOCATION = 1.00 / 1e6  # EventBridge Scheduler, to wake an Express execution


def standard_or_express(mix: Mix = MIX, bench: Mapping[str, float] = BENCH_FIGURES) -> Workflows:
    """Transitions at Standard's price, against one Express execution (64 MB, 1 s) and one scheduled
    wake-up per Plan or Act, the Waits moved out to EventBridge Scheduler."""
    known = operations(bench)
    counts = occurrences(mix)
    dunning = ("dunning restarted (Plan function, Wait)", "reminder sent (Act that plans next, Next?, Wait)")
    transitions = sum(counts[name] * known[name].transitions for name in dunning) * 1000
    executions = sum(counts[name] * len(known[name].invocations) for name in dunning) * 1000
    express_each = EXPRESS_USD_PER_EXECUTION + EXPRESS_USD_PER_GB_SECOND * 0.0625 + SCHEDULER_USD_PER_INVOCATION
    return Workflows(standard=cost("sfn_transitions", transitions), express=executions * express_each)


# ---------------------------------------------------------------- report

TARGET_PER_THOUSAND = 5.0
SIZES = (100, 1_000, 10_000)


def variable_per_thousand(mix: Mix = MIX) -> float:
    """The dollars that grow with customers, per 1,000 of them."""
    return sum(cost(key, quantity) for key, quantity in per_customer(mix).items()) * 1000


def fixed_per_month(mix: Mix = MIX) -> float:
    """The dollars a deployment pays whatever its number of customers (Cognito's first user aside)."""
    return sum(cost(key, quantity) for key, quantity in per_deployment(mix).items())


def customers_to_meet(target_per_thousand: float = TARGET_PER_THOUSAND, mix: Mix = MIX) -> int | None:
    """The fewest customers whose bill per 1,000 is under the target (None: never, variable cost above it)."""
    margin = target_per_thousand - variable_per_thousand(mix)
    if margin <= 0:
        return None
    customers = math.floor(fixed_per_month(mix) / margin * 1000) + 1
    while bill(customers, mix).per_thousand >= target_per_thousand:  # Cognito's users come in steps
        customers += 1
    return customers


def _money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"


def _quantity(quantity: float) -> str:
    return f"{quantity:,.0f}" if quantity >= 100 else f"{quantity:,.2f}"


def _table(bills: list[Bill], free: list[Bill]) -> list[str]:
    reference = bills[len(bills) // 2]
    head = f"quantity at {reference.customers:,}"
    rows = [f"{'line':32} {'unit':22} {head:>18} " + " ".join(f"{f'{b.customers:,} customers':>16}" for b in bills)]
    for index, line in enumerate(reference.lines):
        price = PRICES[line.key]
        amounts = " ".join(f"{_money(b.lines[index].usd):>16}" for b in bills)
        rows.append(f"{price.line:32} {price.unit:22} {_quantity(line.quantity):>18} {amounts}")
    width = 32 + 1 + 22 + 1 + 18
    return [
        *rows,
        f"{'total':{width}} " + " ".join(f"{_money(b.total):>16}" for b in bills),
        f"{'per 1,000 customers':{width}} " + " ".join(f"{_money(b.per_thousand):>16}" for b in bills),
        f"{'the same, always-free tiers applied':{width}} " + " ".join(f"{_money(b.per_thousand):>16}" for b in free),
    ]


def report(sizes: tuple[int, ...] = SIZES, mix: Mix = MIX) -> str:
    bills = [bill(n, mix) for n in sizes]
    free = [bill(n, mix, free_tiers=True) for n in sizes]
    rows = [
        f"Relance's monthly AWS bill in us-east-1: AWS list prices of {PRICES_AS_OF} (to be checked), "
        f"counts measured on {BENCH_DATE}; docs/cost.md",
        f"Per customer and month: {mix.invoices:g} invoices and {mix.payments:g} payments synced, "
        f"{mix.reminders:g} reminders, {mix.portal_visits:g} portal visit, "
        f"{mix.web_customer_pages + mix.web_list_pages:g} web pages, {mix.nights:g} nights; "
        f"{mix.months_of_history:g} months of history",
        "",
        *_table(bills, free),
        "",
    ]
    for b in bills:
        largest = b.largest
        rows.append(
            f"largest line at {b.customers:,} customers: {PRICES[largest.key].line} "
            f"{_money(largest.usd)} ({largest.usd / b.total:.0%} of the bill)"
        )
    meets = customers_to_meet(mix=mix)
    counts = ", ".join(
        f"{_money(sum(cost(k, q) for k, q in list_counts(b.customers, mix).items()))} at {b.customers:,}" for b in bills
    )
    rows += [
        f"what grows with customers: {_money(variable_per_thousand(mix))} per 1,000; "
        f"what a deployment pays whatever its size: {_money(fixed_per_month(mix))} a month; "
        f"the web list's count, which grows with their square: {counts}",
        f"target < {_money(TARGET_PER_THOUSAND)} a month per 1,000 customers: "
        + (f"met from {meets:,} customers on" if meets else "never met: the variable cost alone is above it"),
        "",
    ]
    workflows = standard_or_express(mix)
    rows += [
        f"Dunning state machine, per 1,000 customers: Standard {_money(workflows.standard)} a month; Express "
        f"{_money(workflows.express)} if it could hold the workflow, which it cannot. Standard, because:",
        f"  {workflows.why}",
    ]
    return "\n".join(rows)


def operations_table(mix: Mix = MIX) -> str:
    """Each operation's counts and how often a customer causes it in a month."""
    rows = [f"{'operation':42} {'per month':>9} {'reads':>6} {'writes':>6} {'transitions':>11} {'Lambda':>6}  source"]
    known = operations()
    for name, times in occurrences(mix).items():
        op = known[name]
        invoked = sum(call.requests for call in op.invocations)
        rows.append(
            f"{name:42} {times:>9g} {op.dynamodb_reads:>6.3g} {op.dynamodb_writes:>6.3g} {op.transitions:>11g} "
            f"{invoked:>6g}  {op.source}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.cost", description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=list(SIZES), help="deployment sizes to price")
    parser.add_argument("--operations", action="store_true", help="also list each operation's measured counts")
    args = parser.parse_args(argv)
    print(report(tuple(sorted(set(args.customers)))))
    if args.operations:
        print(
            f"\nPer customer and month; DynamoDB requests, state transitions, Lambda invocations:\n{operations_table()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
