from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.domain.ledger import (
    Allocation,
    InvoiceBalance,
    InvoiceStatus,
    LedgerTotals,
    OpenItem,
    balances,
    check_unique_invoices,
    unapplied,
)
from relance.errors import Invalid

ON = date(2026, 3, 1)


def invoice(amount: int = 10000) -> InvoiceBalance:
    return InvoiceBalance(amount=amount, currency="EUR")


def test_partial_payment_leaves_the_invoice_open():
    settled = invoice().settle(paid=4000, on=ON, field="amount")

    assert (settled.status, settled.outstanding, settled.paid_at) == (InvoiceStatus.OPEN, 6000, None)


def test_payment_and_credit_note_together_settle_the_invoice_on_the_last_date():
    half = invoice().settle(paid=5000, on=date(2026, 2, 1), field="amount")

    settled = half.settle(credited=5000, on=ON, field="amount")

    assert (settled.status, settled.outstanding, settled.paid_at) == (InvoiceStatus.PAID, 0, ON)


def test_over_allocation_is_refused_naming_the_field():
    with pytest.raises(Invalid) as error:
        invoice().settle(paid=10001, on=ON, field="allocations[0].amount")

    assert "allocations[0].amount" in error.value.fields


def test_voided_invoice_takes_no_money_and_owes_nothing():
    voided = invoice().void()

    assert voided.outstanding == 0
    with pytest.raises(Invalid):
        voided.settle(paid=1, on=ON, field="amount")


def test_invoice_with_money_applied_cannot_be_voided():
    with pytest.raises(Invalid):
        invoice().settle(paid=1, on=ON, field="amount").void()


def test_unapplied_is_what_allocations_leave():
    allocations = [Allocation(invoice_id="a", amount=300), Allocation(invoice_id="b", amount=200)]

    assert unapplied(1000, allocations) == 500
    with pytest.raises(Invalid):
        unapplied(400, allocations)


def test_an_invoice_appears_once_in_allocations():
    with pytest.raises(Invalid):
        check_unique_invoices([Allocation(invoice_id="a", amount=1), Allocation(invoice_id="a", amount=2)])


def test_balances_per_currency_with_overdue_and_credit():
    items = [
        OpenItem(due_at=date(2026, 2, 1), outstanding=1000, currency="EUR"),
        OpenItem(due_at=date(2026, 4, 1), outstanding=500, currency="EUR"),
        OpenItem(due_at=date(2026, 1, 1), outstanding=700, currency="USD"),
    ]

    result = balances(items, {"EUR": 200, "GBP": 50}, ON)

    assert {c: (b.outstanding, b.overdue) for c, b in result.items()} == {
        "EUR": (1300, 1000),
        "USD": (700, 700),
        "GBP": (-50, 0),
    }


def test_ledger_totals_outstanding_formula():
    totals = LedgerTotals(invoiced={"USD": 10000}, paid={"USD": 12000}, credited={"USD": 1000}, refunded={"USD": 2000})

    assert totals.outstanding() == {"USD": -1000}


@given(
    st.integers(1, 10**9).flatmap(
        lambda amount: st.tuples(st.just(amount), st.lists(st.integers(1, max(1, amount // 3)), max_size=3))
    )
)
def test_money_is_conserved_by_partial_payments(case):
    amount, parts = case
    balance = InvoiceBalance(amount=amount, currency="USD")
    applied = 0
    for part in parts:
        if part <= balance.outstanding:
            balance = balance.settle(paid=part, on=ON, field="amount")
            applied += part
    assert balance.outstanding + balance.paid_amount == amount
    assert balance.paid_amount == applied
    assert (balance.status == InvoiceStatus.PAID) == (balance.outstanding == 0)
