"""The customers slipping over a week (docs/analytics.md, "Slipping customers"), on a hand-built ledger.

The week is Monday 2026-11-23 to Sunday 2026-11-29: overdue is compared at the end of Sunday
2026-11-22 and at the end of Sunday 2026-11-29. Amounts in cents.
"""

from datetime import date

from relance.domain.analytics.history import InvoiceHistory, Settlement
from relance.domain.analytics.slipping import Slip, overdue_on, rating_fall, slipping

LAST = date(2026, 11, 29)


def d(text: str) -> date:
    return date.fromisoformat(text)


def invoice(
    invoice_id: str, customer: str, amount: int, issued: str, due: str, *paid: tuple[str, int], currency: str = "EUR"
) -> InvoiceHistory:
    settlements = tuple(Settlement(d(on), part) for on, part in paid)
    return InvoiceHistory(invoice_id, customer, currency, amount, d(issued), d(due), settlements)


LEDGER = [
    # d: €2,500 falls due on Friday: +€2,500, the most.
    invoice("D1", "cus_d", 250000, "2026-10-28", "2026-11-27"),
    # b: €1,000 late already, paid on Wednesday 56 days late (A → B); €2,000 falls due on Tuesday: +€1,000.
    invoice("B0", "cus_b", 100000, "2026-08-01", "2026-08-31", ("2026-09-10", 100000)),
    invoice("B1", "cus_b", 100000, "2026-09-01", "2026-09-30", ("2026-11-25", 100000)),
    invoice("B2", "cus_b", 200000, "2026-10-25", "2026-11-24"),
    # a: €1,000 falls due on Wednesday: +€1,000, rated A before and after (paid 10 days late once).
    invoice("A0", "cus_a", 50000, "2026-09-01", "2026-09-30", ("2026-10-10", 50000)),
    invoice("A1", "cus_a", 100000, "2026-10-01", "2026-11-25"),
    # c: €1,000 falls due on Thursday: +€1,000, never rated.
    invoice("C1", "cus_c", 100000, "2026-10-01", "2026-11-26"),
    # g: €10 falls due on Monday.
    invoice("G1", "cus_g", 1000, "2026-10-01", "2026-11-23"),
    # h: €5 falls due on Monday; €1,000 due on Sunday is not overdue yet on Sunday: +€5, sixth, left out.
    invoice("H1", "cus_h", 500, "2026-10-01", "2026-11-23"),
    invoice("H2", "cus_h", 100000, "2026-10-30", "2026-11-29"),
    # e: €800 late, half paid on Tuesday: its overdue shrank.
    invoice("E1", "cus_e", 80000, "2026-09-01", "2026-10-01", ("2026-11-24", 40000)),
    # f: €300 late all week, nothing paid: unchanged.
    invoice("F1", "cus_f", 30000, "2026-09-01", "2026-10-01"),
    # u: $50 falls due on Saturday: ranked among the dollars only.
    invoice("U1", "cus_u", 5000, "2026-10-01", "2026-11-28", currency="USD"),
]


def test_the_top_five_per_currency_grew_most_ties_by_rating_fall_then_id():
    ranked = slipping(LEDGER, LAST)

    assert [(s.currency, s.customer_id, s.growth, s.rating_fall) for s in ranked] == [
        ("EUR", "cus_d", 250000, 0),
        ("EUR", "cus_b", 100000, 1),
        ("EUR", "cus_a", 100000, 0),
        ("EUR", "cus_c", 100000, 0),
        ("EUR", "cus_g", 1000, 0),
        ("USD", "cus_u", 5000, 0),
    ]
    assert ranked[1] == Slip("cus_b", "EUR", 100000, 200000, "A", "B")
    assert (ranked[2].rating_before, ranked[2].rating_after) == ("A", "A")
    assert (ranked[3].rating_before, ranked[3].rating_after) == (None, None)


def test_overdue_counts_what_is_past_due_at_the_end_of_the_day():
    overdue = overdue_on(LEDGER, LAST)

    assert overdue[("cus_h", "EUR")] == 500  # H2, due that Sunday, is not past due on it
    assert overdue[("cus_e", "EUR")] == 40000
    assert ("cus_b", "EUR") in overdue and overdue[("cus_b", "EUR")] == 200000


def test_a_quiet_week_has_nobody_slipping():
    assert slipping([invoice("F1", "cus_f", 30000, "2026-09-01", "2026-10-01")], LAST) == []


def test_a_rating_fall_counts_letters_worse_and_nothing_else():
    assert rating_fall("A", "C") == 2
    assert rating_fall("C", "B") == 0
    assert rating_fall(None, "D") == 0
    assert rating_fall("B", None) == 0
