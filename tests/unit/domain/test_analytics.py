"""The figures of docs/analytics.md, on the ledgers of its worked examples (amounts in cents)."""

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from relance.domain.analytics.collected import Collected, Period, collected
from relance.domain.analytics.dso import at_risk, at_risk_by_month, dso, dso_by_month
from relance.domain.analytics.forecast import ExpectedBy, WeekAccuracy, accuracy, forecast, payment_delays
from relance.domain.analytics.history import (
    InvoiceHistory,
    Method,
    MoneyHistory,
    MoneyKind,
    Month,
    Settlement,
    invoice_histories,
    money_histories,
)
from relance.domain.analytics.rates import Converted, MissingRate, Rate, RateTable, convert, convert_total
from relance.domain.analytics.ratings import RatingFall, by_customer, rated_invoice, ratings_by_month, ratings_on
from relance.domain.analytics.receivables import BUCKETS, aging_by, aging_on, balances_on, shares
from relance.domain.ledger import Allocation, Invoice, InvoiceDispute, InvoiceStatus, MoneyRecord
from relance.domain.money import Money
from relance.domain.rating import rate

CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def euros(amount: str) -> int:
    return int(Decimal(amount) * 100)


def invoice(
    invoice_id: str,
    customer: str,
    amount: str,
    issued: str,
    due: str,
    *settlements: Settlement,
    currency: str = "EUR",
    disputed: bool = False,
    promised: str | None = None,
) -> InvoiceHistory:
    return InvoiceHistory(
        invoice_id,
        customer,
        currency,
        euros(amount),
        d(issued),
        d(due),
        settlements,
        disputed=disputed,
        promised_on=d(promised) if promised else None,
    )


def paid(on: str, amount: str, kind: MoneyKind = MoneyKind.PAYMENT) -> Settlement:
    return Settlement(d(on), euros(amount), kind)


def money(
    record_id: str,
    customer: str,
    kind: MoneyKind,
    amount: str,
    on: str,
    allocated: str = "0",
    method: Method = Method.RECORDED,
    currency: str = "EUR",
) -> MoneyHistory:
    return MoneyHistory(record_id, customer, kind, currency, euros(amount), d(on), euros(allocated), method)


# ------------------------------------------------------------- the aging example (docs/analytics.md)

AGING_LEDGER = [
    invoice(
        "INV-1",
        "acme",
        "1000.00",
        "2025-12-01",
        "2025-12-31",
        paid("2026-02-10", "400.00"),
        paid("2026-04-05", "600.00"),
    ),
    invoice("INV-2", "acme", "500.00", "2026-02-01", "2026-03-03", paid("2026-03-10", "200.00", MoneyKind.CREDIT_NOTE)),
    invoice("INV-3", "bolt", "2000.00", "2025-11-01", "2025-12-01"),
    invoice("INV-4", "bolt", "800.00", "2026-03-15", "2026-04-14"),
    invoice("INV-5", "bolt", "700.00", "2026-04-02", "2026-05-02"),
    invoice("INV-6", "acme", "400.00", "2026-01-10", "2026-02-09", paid("2026-02-20", "400.00")),
    invoice("INV-7", "cora", "1500.00", "2026-02-15", "2026-03-17", currency="USD"),
]
AGING_MONEY = [
    money("P1", "acme", MoneyKind.PAYMENT, "400.00", "2026-02-10", allocated="400.00"),
    money("P2", "acme", MoneyKind.PAYMENT, "400.00", "2026-02-20", allocated="400.00", method=Method.ONLINE),
    money("CN1", "acme", MoneyKind.CREDIT_NOTE, "200.00", "2026-03-10", allocated="200.00"),
    money("P4", "bolt", MoneyKind.PAYMENT, "150.00", "2026-03-20"),
    money("R1", "bolt", MoneyKind.REFUND, "50.00", "2026-03-25"),
    money("P3", "acme", MoneyKind.PAYMENT, "600.00", "2026-04-05", allocated="600.00"),
]
MANAGERS = {"acme": "ana", "bolt": "ben", "cora": "ana"}
RATES = RateTable.of(
    "EUR",
    [Rate("USD", d("2026-03-27"), Decimal("0.9200")), Rate("USD", d("2026-03-30"), Decimal("0.9250"))],
)


def amounts(*values: str) -> dict[str, int]:
    return dict(zip(BUCKETS, (euros(v) for v in values), strict=True))


def percents(*values: str) -> dict[str, Decimal]:
    return dict(zip(BUCKETS, (Decimal(v) for v in values), strict=True))


def test_aging_on_march_31_counts_what_was_open_that_day_by_days_past_due():
    aging = aging_on(AGING_LEDGER, d("2026-03-31"))

    # INV-1: 1000 − 400 paid on Feb 10 (the 600 of April 5 is later), 90 days past due;
    # INV-2: 500 − 200 credit note, 28 days; INV-3: 120 days; INV-4: not due; INV-5: not issued yet.
    assert aging["EUR"].amounts == amounts("800.00", "300.00", "0", "600.00", "2000.00")
    assert aging["EUR"].total == euros("3700.00")
    assert aging["EUR"].percentages == percents("21.6", "8.1", "0.0", "16.2", "54.1")


def test_aging_on_an_earlier_day_reads_the_history_as_it_was():
    aging = aging_on(AGING_LEDGER, d("2026-02-15"))

    # INV-6 is still open (paid on Feb 20), INV-1 has had its first 400, INV-2 is not due yet.
    assert aging["EUR"].amounts == amounts("500.00", "400.00", "600.00", "2000.00", "0")
    # 14.2857, 11.4286, 17.1429, 57.1429: rounding each gives 99.9; the largest remainders give 100.0.
    assert aging["EUR"].percentages == percents("14.3", "11.4", "17.2", "57.1", "0.0")


def test_aging_keeps_each_currency_apart():
    aging = aging_on(AGING_LEDGER, d("2026-03-31"))

    assert set(aging) == {"EUR", "USD"}
    assert aging["USD"].amounts == amounts("0", "1500.00", "0", "0", "0")
    assert aging["USD"].percentages["days_1_to_30"] == Decimal("100.0")


def test_aging_by_account_manager_gives_each_group_its_own_hundred_percent():
    by_manager = aging_by(AGING_LEDGER, d("2026-03-31"), lambda i: MANAGERS[i.customer_id])

    assert by_manager["ana"]["EUR"].amounts == amounts("0", "300.00", "0", "600.00", "0")
    assert by_manager["ana"]["EUR"].percentages == percents("0.0", "33.3", "0.0", "66.7", "0.0")
    assert by_manager["ana"]["USD"].total == euros("1500.00")
    assert by_manager["ben"]["EUR"].amounts == amounts("800.00", "0", "0", "0", "2000.00")


def test_a_fully_paid_invoice_is_in_no_bucket_and_a_group_with_nothing_open_is_left_out():
    by_customer = aging_by(AGING_LEDGER, d("2026-04-30"), lambda i: i.customer_id)

    assert "acme" in by_customer  # INV-2 still owes 300
    assert by_customer["acme"]["EUR"].amounts == amounts("0", "0", "300.00", "0", "0")
    settled = [i for i in AGING_LEDGER if i.id in {"INV-1", "INV-6"}]
    assert aging_by(settled, d("2026-04-30"), lambda i: i.customer_id) == {}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 1], ["33.4", "33.3", "33.3"]),
        ([2, 1], ["66.7", "33.3"]),
        ([0, 0], ["0.0", "0.0"]),
        ([5, 0], ["100.0", "0.0"]),
    ],
)
def test_shares_always_add_up_to_a_hundred(values, expected):
    result = shares(values)

    assert result == [Decimal(e) for e in expected]
    assert sum(result) in {Decimal(100), Decimal(0)}


def test_balances_on_a_day_split_due_and_overdue_and_take_credit_off():
    balances = balances_on(AGING_LEDGER, AGING_MONEY, d("2026-03-31"))

    eur = balances["EUR"]
    assert (eur.due, eur.overdue) == (euros("800.00"), euros("2900.00"))
    assert eur.credit == euros("100.00")  # P4's unapplied 150 less the refund of 50
    assert eur.outstanding == euros("3600.00")
    assert balances["USD"].overdue == euros("1500.00")


def test_balances_before_the_unapplied_payment_have_no_credit():
    balances = balances_on(AGING_LEDGER, AGING_MONEY, d("2026-03-15"))

    assert balances["EUR"].credit == 0
    assert balances["EUR"].due == euros("800.00")  # INV-4, issued on March 15


# ------------------------------------------------------------------------------------------- rates


def test_conversion_uses_the_latest_rate_on_or_before_the_day_and_says_its_date():
    converted = convert(Money(amount=euros("1500.00"), currency="USD"), RATES, d("2026-03-31"))

    assert isinstance(converted, Converted)
    assert converted.amount == Money(amount=euros("1387.50"), currency="EUR")
    assert converted.rate.on == d("2026-03-30")
    assert converted.rate.value == Decimal("0.9250")


def test_a_missing_rate_is_reported_never_guessed():
    converted = convert(Money(amount=euros("1500.00"), currency="USD"), RATES, d("2026-03-26"))

    assert converted == MissingRate(Money(amount=euros("1500.00"), currency="USD"), d("2026-03-26"))


def test_outstanding_converted_to_the_organization_currency():
    balances = balances_on(AGING_LEDGER, AGING_MONEY, d("2026-03-31"))

    total = convert_total({c: b.outstanding for c, b in balances.items()}, RATES, d("2026-03-31"))

    assert total.total == Money(amount=euros("4987.50"), currency="EUR")  # 3600.00 + 1387.50
    assert total.missing == ()


def test_currencies_are_never_summed_without_a_rate():
    total = convert_total({"EUR": euros("3600.00"), "GBP": euros("100.00")}, RATES, d("2026-03-31"))

    assert total.total is None
    assert total.missing == ("GBP",)
    assert isinstance(total.parts[0], Converted)  # the EUR part is still shown


def test_conversion_rounds_half_up_to_the_minor_unit_of_the_organization_currency():
    table = RateTable.of("EUR", [Rate("JPY", d("2026-01-01"), Decimal("0.00612"))])

    converted = convert(Money(amount=12345, currency="JPY"), table, d("2026-03-31"))

    assert isinstance(converted, Converted)
    assert converted.amount.amount == 7555  # 75.55140 EUR


def test_two_rates_for_one_day_are_refused():
    with pytest.raises(ValueError, match="two USD rates"):
        RateTable.of("EUR", [Rate("USD", d("2026-03-30"), Decimal(1)), Rate("USD", d("2026-03-30"), Decimal(2))])


# --------------------------------------------------------------------------- the DSO example

DSO_LEDGER = [
    invoice("J1", "acme", "4000.00", "2026-01-05", "2026-02-04", paid("2026-03-01", "4000.00")),
    invoice("J2", "bolt", "2000.00", "2026-01-20", "2026-02-19"),
    invoice("M1", "acme", "4000.00", "2026-03-10", "2026-04-09", paid("2026-04-20", "500.00")),
    invoice("A1", "bolt", "3000.00", "2026-04-15", "2026-05-15", paid("2026-06-01", "1000.00")),
]
APRIL = Month(2026, 4)


def test_dso_countback_walks_back_through_the_billings_until_the_receivables_are_used_up():
    figure = dso(DSO_LEDGER, "EUR", APRIL)

    assert figure.receivables == euros("8500.00")
    assert figure.billings == euros("3000.00")
    # April 30 days (5500 left), March 31 (1500 left), February 28 (no billings), January 31 × 1500/6000.
    assert [(str(s.month), s.absorbed) for s in figure.steps] == [
        ("2026-04", euros("3000.00")),
        ("2026-03", euros("4000.00")),
        ("2026-02", 0),
        ("2026-01", euros("1500.00")),
    ]
    assert figure.countback_days == Decimal("96.8")  # 96.75
    assert figure.classic_days == Decimal("85.0")  # 8500 / 3000 × 30


def test_dso_per_month_for_twelve_months():
    figures = dso_by_month(DSO_LEDGER, "EUR", APRIL)

    assert len(figures) == 12
    assert str(figures[0].month) == "2025-05"
    assert [(str(f.month), f.countback_days, f.classic_days) for f in figures[-4:]] == [
        ("2026-01", Decimal("31.0"), Decimal("31.0")),
        ("2026-02", Decimal("59.0"), None),
        ("2026-03", Decimal("69.3"), Decimal("46.5")),
        ("2026-04", Decimal("96.8"), Decimal("85.0")),
    ]


def test_a_month_with_no_billings_and_nothing_owed_stops_the_countback_at_once():
    figure = dso(DSO_LEDGER, "EUR", Month(2025, 12))

    assert (figure.receivables, figure.billings) == (0, 0)
    assert figure.steps == ()
    assert figure.countback_days == Decimal("0.0")
    assert figure.classic_days is None


def test_dso_reads_only_its_currency():
    usd = [invoice("U1", "cora", "9000.00", "2026-04-01", "2026-05-01", currency="USD")]

    assert dso(DSO_LEDGER + usd, "EUR", APRIL).receivables == euros("8500.00")
    assert dso(DSO_LEDGER + usd, "USD", APRIL).countback_days == Decimal("30.0")


def test_at_risk_rate_is_the_share_of_a_month_billings_unpaid_90_days_after_issue():
    figures = at_risk_by_month(DSO_LEDGER, "EUR", Month(2026, 5), d("2026-08-01"), months=5)

    assert [(str(f.month), f.billed, f.unpaid, f.rate) for f in figures] == [
        ("2026-01", euros("6000.00"), euros("2000.00"), Decimal("33.3")),  # J1 paid, J2 not by April 20
        ("2026-02", 0, 0, None),
        ("2026-03", euros("4000.00"), euros("3500.00"), Decimal("87.5")),  # 500 of M1 by June 8
        ("2026-04", euros("3000.00"), euros("2000.00"), Decimal("66.7")),  # 1000 of A1 by July 14
        ("2026-05", 0, None, None),  # May 31 + 90 days is after August 1: not known yet
    ]


def test_at_risk_is_not_known_until_the_month_last_invoices_are_90_days_old():
    assert at_risk(DSO_LEDGER, "EUR", APRIL, d("2026-07-28")).rate is None
    assert at_risk(DSO_LEDGER, "EUR", APRIL, d("2026-07-29")).rate == Decimal("66.7")


# ----------------------------------------------------------------------------------- collected


def test_collected_per_month_by_method():
    rows = collected(AGING_MONEY, Period.MONTH, d("2026-02-01"), d("2026-03-31"))

    assert rows == [
        Collected(d("2026-02-01"), "EUR", online=euros("400.00"), recorded=euros("400.00")),
        Collected(d("2026-03-01"), "EUR", online=0, recorded=euros("150.00")),  # the credit note and refund are no cash
    ]


def test_collected_per_week_starts_on_monday_and_keeps_empty_weeks():
    rows = collected(AGING_MONEY, Period.WEEK, d("2026-02-10"), d("2026-02-24"))

    assert [(r.start, r.online, r.recorded) for r in rows] == [
        (d("2026-02-09"), 0, euros("400.00")),
        (d("2026-02-16"), euros("400.00"), 0),
        (d("2026-02-23"), 0, 0),
    ]


def test_collected_per_day():
    rows = collected(AGING_MONEY, Period.DAY, d("2026-02-20"), d("2026-02-20"))

    assert rows == [Collected(d("2026-02-20"), "EUR", online=euros("400.00"))]
    assert rows[0].total == euros("400.00")


# ------------------------------------------------------------------------------------- ratings


def test_ratings_on_a_day_come_from_the_invoices_paid_by_then():
    assert ratings_on(AGING_LEDGER, d("2026-01-31")) == {"acme": None, "bolt": None}
    assert ratings_on(AGING_LEDGER, d("2026-03-31")) == {"acme": "A", "bolt": None, "cora": None}
    # April 5: INV-1 paid 95 days late; (1000 × 95 + 400 × 11) / 1400 = 71 days.
    assert ratings_on(AGING_LEDGER, d("2026-04-30"))["acme"] == "C"


def test_ratings_distribution_movement_and_the_customers_whose_rating_fell():
    months = ratings_by_month(AGING_LEDGER, APRIL, months=3)

    february, march, april = months
    assert february.distribution == {"A": 1, "B": 0, "C": 0, "D": 0, "unrated": 2}
    assert february.moves == {("unrated", "A"): 1}  # cora is new: counted, not moved
    assert march.moves == {}
    assert april.distribution == {"A": 0, "B": 0, "C": 1, "D": 0, "unrated": 2}
    assert april.moves == {("A", "C"): 1}
    assert april.fell == (RatingFall("acme", "A", "C"),)
    assert february.fell == ()


# ------------------------------------------------------------------------ the forecast example

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 5, 3, 23, 30, tzinfo=UTC)  # Monday May 4, 01:30 in Paris

FORECAST_LEDGER = [
    invoice("N1", "north", "1000.00", "2026-01-30", "2026-03-01", paid("2026-03-11", "1000.00")),
    invoice("N2", "north", "3000.00", "2026-02-13", "2026-03-15", paid("2026-03-17", "3000.00")),
    invoice("N3", "north", "2000.00", "2026-04-10", "2026-05-10"),
    invoice("N4", "north", "400.00", "2026-03-02", "2026-04-01"),
    invoice("N5", "north", "700.00", "2026-04-12", "2026-05-12", currency="USD"),
    invoice("N6", "north", "1000.00", "2026-03-26", "2026-04-25", paid("2026-04-29", "1000.00")),
    invoice("S1", "south", "1000.00", "2026-01-02", "2026-02-01", paid("2026-03-03", "1000.00")),
    invoice("S2", "south", "500.00", "2026-03-21", "2026-04-20"),
    invoice("S3", "south", "800.00", "2026-04-06", "2026-05-06", disputed=True),
    invoice("S4", "south", "600.00", "2026-03-01", "2026-03-31", promised="2026-05-08"),
    invoice("W1", "new", "1200.00", "2026-04-25", "2026-05-25"),
    invoice("W2", "new", "900.00", "2026-05-01", "2026-08-01"),
]
FORECAST_MONEY = [
    money("PN1", "north", MoneyKind.PAYMENT, "1000.00", "2026-03-11", allocated="1000.00"),
    money("PN2", "north", MoneyKind.PAYMENT, "3000.00", "2026-03-17", allocated="3000.00"),
    money("PS1", "south", MoneyKind.PAYMENT, "1000.00", "2026-03-03", allocated="1000.00"),
    money("PS9", "south", MoneyKind.PAYMENT, "250.00", "2026-04-22"),
    money("PN6", "north", MoneyKind.PAYMENT, "1000.00", "2026-04-29", allocated="1000.00", method=Method.ONLINE),
]


def test_forecast_weeks_start_on_monday_in_the_organization_time_zone():
    result = forecast(FORECAST_LEDGER, NOW, PARIS)

    assert len(result.starts) == 13
    assert result.starts[0] == d("2026-05-04")  # in UTC it is still Sunday, in the week of April 27
    assert forecast(FORECAST_LEDGER, NOW, UTC).starts[0] == d("2026-04-27")


def test_forecast_expects_each_open_invoice_at_due_date_plus_its_customer_delay():
    result = forecast(FORECAST_LEDGER, NOW, PARIS)

    expected = {e.invoice_id: (e.on, e.by) for e in result.expected}
    # north pays (1000 × 10 + 3000 × 2 + 1000 × 4) / 5000 = 4 days late; south 30 days late.
    assert expected["N3"] == (d("2026-05-14"), ExpectedBy.CUSTOMER_DELAY)
    assert expected["S2"] == (d("2026-05-20"), ExpectedBy.CUSTOMER_DELAY)
    assert [w.get("EUR", 0) for w in result.weeks[:5]] == [
        euros("600.00"),  # S4, promised for May 8
        euros("2000.00"),  # N3, May 14
        euros("500.00"),  # S2, May 20
        0,
        euros("1200.00"),  # W1, June 2
    ]
    assert result.weeks[1]["USD"] == euros("700.00")  # N5, May 16: never added to euros


def test_a_customer_with_no_payment_history_gets_the_organization_delay():
    result = forecast(FORECAST_LEDGER, NOW, PARIS)

    expected = {e.invoice_id: (e.on, e.by) for e in result.expected}
    # every paid invoice: (10000 + 6000 + 4000 + 30000) / 6000 = 8.33 → 8 days
    assert expected["W1"] == (d("2026-06-02"), ExpectedBy.ORGANIZATION_DELAY)


def test_a_promise_to_pay_is_expected_on_its_date():
    result = forecast(FORECAST_LEDGER, NOW, PARIS)

    assert (d("2026-05-08"), ExpectedBy.PROMISE) in {(e.on, e.by) for e in result.expected if e.invoice_id == "S4"}


def test_disputed_late_and_later_invoices_are_kept_apart():
    result = forecast(FORECAST_LEDGER, NOW, PARIS)

    assert result.disputed == {"EUR": euros("800.00")}  # S3
    assert result.late == {"EUR": euros("400.00")}  # N4, expected April 5
    assert result.later == {"EUR": euros("900.00")}  # W2, expected August 9, after week 13 (July 27 – August 2)
    assert "S3" not in {e.invoice_id for e in result.expected}


def test_forecast_accuracy_compares_past_weeks_with_what_came_in():
    rows = accuracy(FORECAST_LEDGER, FORECAST_MONEY, NOW, PARIS, weeks=2)

    # Week of April 27, forecast on April 26: N6 on April 29 and S4 on April 30 (its promise is
    # today's: a past week's forecast cannot know it); in came N6's 1000.
    assert rows == [
        WeekAccuracy(d("2026-04-20"), "EUR", forecast=0, actual=euros("250.00")),
        WeekAccuracy(d("2026-04-27"), "EUR", forecast=euros("1600.00"), actual=euros("1000.00")),
    ]
    assert rows[1].difference == euros("-600.00")


def test_a_naive_now_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        forecast(FORECAST_LEDGER, NOW.replace(tzinfo=None), PARIS)


# ------------------------------------------------------------------------------------ adapters


def stored_invoice(invoice_id: str, amount: int, issued: str, due: str, **extra: object) -> Invoice:
    fields: dict[str, object] = {
        "id": invoice_id,
        "customer_id": "acme",
        "external_id": None,
        "number": invoice_id,
        "currency": "EUR",
        "amount": amount,
        "issued_at": d(issued),
        "due_at": d(due),
        "pdf_url": None,
        "paid_amount": 0,
        "credited_amount": 0,
        "outstanding": amount,
        "status": InvoiceStatus.OPEN,
        "paid_at": None,
        "created_at": CREATED,
    }
    return Invoice.model_validate({**fields, **extra})


def test_invoice_histories_date_each_allocation_by_its_record():
    invoices = [
        stored_invoice("inv_1", 10000, "2026-01-01", "2026-01-31", promised_until=d("2026-02-15")),
        stored_invoice(
            "inv_2",
            5000,
            "2026-01-05",
            "2026-02-04",
            disputed=InvoiceDispute(reason="wrong", at=CREATED, by="portal"),
        ),
        stored_invoice("inv_3", 700, "2026-01-05", "2026-02-04", status=InvoiceStatus.VOIDED),
    ]
    records = [
        MoneyRecord(
            id="pay_1",
            kind="payment",
            customer_id="acme",
            amount=6000,
            currency="EUR",
            allocations=[Allocation(invoice_id="inv_1", amount=4000), Allocation(invoice_id="inv_2", amount=1000)],
            received_at=d("2026-02-10"),
            created_at=CREATED + timedelta(days=45),
        ),
        MoneyRecord(
            id="cn_1",
            kind="credit_note",
            customer_id="acme",
            amount=500,
            currency="EUR",
            allocations=[Allocation(invoice_id="inv_1", amount=500)],
            issued_at=d("2026-01-20"),
            created_at=CREATED,
        ),
        MoneyRecord(
            id="ref_1",
            kind="refund",
            customer_id="acme",
            amount=300,
            currency="EUR",
            refunded_at=d("2026-03-01"),
            created_at=CREATED,
        ),
    ]

    histories = {h.id: h for h in invoice_histories(invoices, records)}

    assert set(histories) == {"inv_1", "inv_2"}  # the voided invoice has no history
    assert histories["inv_1"].settlements == (
        Settlement(d("2026-01-20"), 500, MoneyKind.CREDIT_NOTE),
        Settlement(d("2026-02-10"), 4000, MoneyKind.PAYMENT),
    )
    assert histories["inv_1"].outstanding_on(d("2026-02-09")) == 9500
    assert histories["inv_1"].promised_on == d("2026-02-15")
    assert histories["inv_2"].disputed

    money_list = money_histories(records, online_payment_ids={"pay_1"})
    assert [(m.id, m.on, m.credit, m.method) for m in money_list] == [
        ("pay_1", d("2026-02-10"), 1000, Method.ONLINE),
        ("cn_1", d("2026-01-20"), 0, Method.RECORDED),
        ("ref_1", d("2026-03-01"), -300, Method.RECORDED),
    ]


def test_an_invoice_issued_after_the_day_owes_nothing_yet():
    later = invoice("L1", "acme", "100.00", "2026-04-02", "2026-05-02")

    assert later.outstanding_on(d("2026-04-01")) == 0
    assert later.outstanding_on(d("2026-04-02")) == euros("100.00")
    assert later.paid_on(d("2026-12-31")) is None


def test_months_walk_back_across_years():
    assert [str(m) for m in Month(2026, 2).back(3)] == ["2025-12", "2026-01", "2026-02"]
    assert Month(2024, 2).days == 29


def test_the_forecasts_payment_delays_are_the_ratings_average_delays():
    """The forecast works the delays out without the rest of a rating (for speed at 100,000 invoices):
    on a mixed ledger they equal ``rating.rate``'s average payment delay, per customer and overall."""
    rng = random.Random(15)
    day = d("2026-06-30")
    ledger = []
    for n in range(300):
        issued = d("2025-06-01") + timedelta(days=rng.randint(0, 420))
        due = issued + timedelta(days=30)
        amount = rng.randint(1, 9999)
        settled = due + timedelta(days=rng.randint(-25, 60))
        settlements = (Settlement(settled, amount * 100),) if rng.random() < 0.7 else ()
        currency = rng.choice(["EUR", "JPY", "KWD"])
        ledger.append(InvoiceHistory(f"inv_{n}", f"cus_{n % 17}", currency, amount * 100, issued, due, settlements))

    delays, everyone = payment_delays(ledger, day)

    customers = by_customer(ledger, day)
    rated = {c: rate([rated_invoice(i, day) for i in listed], day) for c, listed in customers.items()}
    assert delays == {
        c: r.average_payment_delay_days for c, r in rated.items() if r.average_payment_delay_days is not None
    }
    every = [rated_invoice(i, day) for listed in customers.values() for i in listed]
    assert everyone == rate(every, day).average_payment_delay_days
