"""The handlers take their sample events (events/) as AWS would deliver them, aimed at real records."""

from tests.integration.helpers import actions_of, start_customer


def test_plan_ends_an_execution_that_is_no_longer_the_customers(fast, sample_event):
    customer_id, _ = start_customer(fast, "Sampled Plan", "ap@sampled-plan.example")
    event = {**sample_event("dunning_plan/plan.json"), "organizationId": fast.session["organization"]["id"]}
    event["customerId"] = customer_id  # the sample's execution name is not the customer's current one

    assert fast.functions["DunningPlanFunction"].invoke(event) == {"next": "end", "reason": "superseded"}


def test_act_on_a_missing_action_does_nothing_and_a_failure_after_retries_is_recorded(fast, sample_event):
    """Act plans next in the same invocation: here the sample's execution is not the customer's, so it ends."""
    customer_id, _ = start_customer(fast, "Sampled Act", "ap@sampled-act.example", due_days_ago=-20)
    org = fast.session["organization"]["id"]
    act = {**sample_event("dunning_act/act.json"), "organizationId": org, "customerId": customer_id}
    ended = {"outcome": "missing", "next": "end", "reason": "superseded"}
    assert fast.functions["DunningActFunction"].invoke(act) == ended

    fast.settle()
    planned = actions_of(fast, customer_id, "planned")[0]  # the first reminder, days ahead
    failed = {**sample_event("dunning_act/act-after-error.json"), "organizationId": org, "customerId": customer_id}
    failed["actionId"] = planned["id"]

    # Recorded, then the next plan (here: the sample's execution is not the customer's, so it ends).
    assert fast.functions["DunningActFunction"].invoke(failed) == {**ended, "outcome": "failed"}
    after = fast.api_session.get(f"{fast.base_url}/v1/customers/{customer_id}/actions").json()["items"]
    recorded = next(a for a in after if a["id"] == planned["id"])
    assert recorded["status"] == "failed" and "Lambda.ServiceException" in recorded["reason"]


def test_the_authorizer_allows_the_sample_request_with_a_real_key(fast, sample_event):
    event = sample_event("authorizer/request-api-key.json")
    event["headers"]["x-api-key"] = fast.session["apiKey"]
    event["multiValueHeaders"]["x-api-key"] = [fast.session["apiKey"]]

    answer = fast.functions["AuthorizerFunction"].invoke(event)

    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert answer["context"]["organizationId"] == fast.session["organization"]["id"]
