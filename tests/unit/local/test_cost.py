"""The cost model (local/cost.py): its arithmetic, and its tables against template.yaml."""

from dataclasses import replace

import pytest

from local import cost
from local.template import Template
from tests.conftest import ROOT

LINEAR = replace(cost.MIX, web_list_pages=0)  # without the web list's count, which grows with the square


def line(bill: cost.Bill, key: str) -> cost.Line:
    return next(entry for entry in bill.lines if entry.key == key)


def test_step_functions_line_by_hand_at_1000_customers():
    # Given 4 invoices and 3 payments (each restarts the run: the Plan function starts the execution at its
    # Wait = 1 transition) and 3 reminders (the bench's 4 for a one-reminder run, less its start's 1 = 3 each)
    transitions_per_customer = (4 + 3) * 1 + 3 * (4 - 1)

    # When
    bill = cost.bill(1_000)

    # Then 16,000 transitions at $0.025 per 1,000
    assert transitions_per_customer == 16
    assert line(bill, "sfn_transitions").quantity == pytest.approx(16_000)
    assert line(bill, "sfn_transitions").usd == pytest.approx(0.40)


def test_ses_line_is_one_email_per_reminder():
    bill = cost.bill(1_000)

    assert line(bill, "ses_outbound").quantity == pytest.approx(3_000)
    assert line(bill, "ses_outbound").usd == pytest.approx(0.30)


def test_the_total_is_the_sum_of_the_lines_and_per_thousand_follows():
    for customers in cost.SIZES:
        bill = cost.bill(customers)

        assert bill.total == pytest.approx(sum(entry.usd for entry in bill.lines))
        assert bill.per_thousand == pytest.approx(bill.total / customers * 1000)
        assert bill.largest.usd == max(entry.usd for entry in bill.lines)
        assert [entry.key for entry in bill.lines] == list(cost.PRICES)


def test_every_line_is_its_quantity_at_its_list_price():
    bill = cost.bill(1_000)

    for entry in bill.lines:
        price = cost.PRICES[entry.key]
        assert entry.usd == pytest.approx(entry.quantity / price.per * price.usd)


def test_what_grows_with_customers_grows_linearly():
    fixed = cost.per_deployment(LINEAR)
    one = cost.monthly_usage(1_000, LINEAR)
    ten = cost.monthly_usage(10_000, LINEAR)

    for key in cost.PRICES:
        if key == "cognito_mau":  # people, not customers: whole users, at least one
            continue
        grown = ten.get(key, 0.0) - fixed.get(key, 0.0)
        assert grown == pytest.approx(10 * (one.get(key, 0.0) - fixed.get(key, 0.0))), key


def test_what_a_deployment_pays_whatever_its_size_does_not_grow():
    small, large = cost.bill(100), cost.bill(10_000)

    for key in ("secrets", "alarms"):
        assert line(small, key).usd == line(large, key).usd > 0


def test_the_web_list_count_grows_with_the_square_of_customers():
    one = cost.list_counts(1_000)["dynamodb_reads"]

    assert cost.list_counts(2_000)["dynamodb_reads"] == pytest.approx(4 * one)


def test_cognito_counts_whole_users_and_at_least_one():
    assert cost.monthly_usage(100)["cognito_mau"] == 1
    assert cost.monthly_usage(1_000)["cognito_mau"] == 3
    assert cost.monthly_usage(10_000)["cognito_mau"] == 30


def test_no_free_tier_is_assumed_unless_asked():
    # Half of Lambda's always-free million requests is still billed by default
    assert cost.cost("lambda_requests", 500_000) == pytest.approx(0.10)
    assert cost.cost("lambda_requests", 500_000, free_tiers=True) == 0
    assert cost.bill(1_000).total > cost.bill(1_000, free_tiers=True).total
    # and what has no always-free tier costs the same either way
    assert cost.cost("sfn_transitions", 1_000) == pytest.approx(0.025)
    assert cost.cost("ses_outbound", 1_000, free_tiers=True) == pytest.approx(0.10)


def test_a_reminder_is_the_bench_execution_less_its_start():
    operations = cost.operations()
    start = operations["dunning restarted (Plan function, Wait)"]
    reminder = operations["reminder sent (Act that plans next, Next?, Wait)"]

    assert start.transitions + reminder.transitions == cost.BENCH_FIGURES["one reminder: state transitions"]
    assert (
        len(start.invocations) + len(reminder.invocations)
        == cost.BENCH_FIGURES["one reminder: Lambda invocations (Plan, Act that plans next)"]
    )
    requests = start.dynamodb_reads + start.dynamodb_writes + reminder.dynamodb_reads + reminder.dynamodb_writes
    assert requests == pytest.approx(cost.BENCH_FIGURES["one reminder: DynamoDB requests made by Plan and Act"])


def test_a_later_bench_figure_moves_the_bill():
    fewer = {**cost.BENCH_FIGURES, "one reminder: state transitions": 3}

    saved = cost.bill(1_000).total - cost.bill(1_000, bench=fewer).total

    assert saved == pytest.approx(3 * 1_000 * 0.025 / 1_000)  # one transition less per reminder


def test_standard_is_priced_and_express_cannot_hold_the_workflow():
    workflows = cost.standard_or_express()

    assert workflows.standard == pytest.approx(line(cost.bill(1_000), "sfn_transitions").usd)
    assert not workflows.express_possible
    assert "5 minutes" in workflows.why


def test_the_target_is_met_from_the_size_the_model_says():
    customers = cost.customers_to_meet()

    assert customers is not None
    assert cost.bill(customers).per_thousand < cost.TARGET_PER_THOUSAND <= cost.bill(customers - 1).per_thousand


def test_the_report_gives_the_three_sizes_the_largest_line_and_the_verdict(capsys):
    assert cost.main([]) == 0

    printed = capsys.readouterr().out
    assert cost.PRICES_AS_OF in printed
    for customers in ("100", "1,000", "10,000"):
        assert f"largest line at {customers} customers" in printed
    assert "target < $5.00" in printed
    assert "Standard" in printed and "Express" in printed


def test_memory_sizes_are_the_templates():
    template = Template(ROOT / "template.yaml")

    for logical_id in template.resources("AWS::Serverless::Function"):
        expected = cost.FUNCTION_MEMORY_MB.get(logical_id, cost.FUNCTION_MEMORY_MB["default"])
        assert template.properties(logical_id)["MemorySize"] == expected, logical_id


def test_what_a_deployment_has_is_the_templates():
    template = Template(ROOT / "template.yaml")
    polled = [
        event
        for logical_id in template.resources("AWS::Serverless::Function")
        for event in template.properties(logical_id).get("Events", {}).values()
        if event["Type"] == "SQS"
    ]

    assert len(template.resources("AWS::SecretsManager::Secret")) == cost.DEPLOYMENT["secrets"]
    assert len(template.resources("AWS::CloudWatch::Alarm")) == cost.DEPLOYMENT["alarms"]
    assert len(polled) == cost.DEPLOYMENT["queues polled by Lambda"]
