from datetime import date, timedelta

import pytest

from relance.domain.customers import AgingBuckets, PaymentMethods, aging

TODAY = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [
        (-3, "not_due"),
        (0, "not_due"),
        (1, "days_1_to_30"),
        (30, "days_1_to_30"),
        (31, "days_31_to_60"),
        (61, "days_61_to_90"),
        (90, "days_61_to_90"),
        (91, "over_90"),
    ],
)
def test_aging_bucket_of_an_open_item(days_late, bucket):
    assert aging(TODAY - timedelta(days=days_late), TODAY) == bucket


def test_aging_buckets_read_well_on_the_wire():
    assert list(AgingBuckets(currency="EUR").model_dump(by_alias=True)) == [
        "currency",
        "notDue",
        "days1To30",
        "days31To60",
        "days61To90",
        "over90",
    ]


def test_payment_methods_keep_the_names_of_the_api_contract():
    assert PaymentMethods().model_dump(by_alias=True) == {
        "card": True,
        "bank_transfer": True,
        "ach_debit": False,
        "sepa_debit": False,  # added by the portal: SEPA Direct Debit for EUR
    }
