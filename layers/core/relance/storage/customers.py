"""Customers: the customer item carries the ledger's running state (open items, credit)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.conditions import Key as KeyCondition
from botocore.exceptions import ClientError

from relance.storage import keys
from relance.storage.records import get, under_prefix
from relance.storage.table import delete, put, query_all, table, update, update_if, without_keys

LIST_PROJECTION = (
    "id, externalId, #n, currency, #l, dunningPlanId, accountManagerIds, customFields, paymentMethods, tags, "
    "openItems, credit, rating, averagePaymentDelayDays, overdueAwareDelayDays, ratingBasis, ratingDrivers, "
    "lastReminderAt, collectionPaused, mainContactId, createdAt, updatedAt, nextAction, ledgerVersion, "
    "syncedFrom, syncedFields, deletedAtSource"
)


def get_customer(org_id: str, customer_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``CUS#<id>``."""
    return get(keys.customer(org_id, customer_id), consistent=consistent)


def customer_id_by_external_id(org_id: str, external_id: str) -> str | None:
    """GetItem ``ORG#<org>``/``CUSEXT#<externalId>``."""
    item = get(keys.customer_external_id(org_id, external_id))
    return item["customerId"] if item else None


def list_customers(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``CUS#``, projected to what a list shows."""
    prefix = keys.customers_prefix(org_id)
    condition = KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"])
    return [
        without_keys(i)
        for i in query_all(
            KeyConditionExpression=condition,
            ProjectionExpression=LIST_PROJECTION,
            ExpressionAttributeNames={"#n": "name", "#l": "language"},
        )
    ]


def customers_of_organization(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``CUS#``: every customer, whole (the forecast plans from them)."""
    return under_prefix(keys.customers_prefix(org_id))


def customers_in_name_order(
    org_id: str, *, descending: bool, after: tuple[str, str] | None, batch: int
) -> Iterator[list[dict[str, Any]]]:
    """Query GSI3 ``ORG#<org>#CUSTOMERS`` (name lower case, then id), a batch at a time, from after
    ``after`` (a name lower case and an id): the list projection, for a page that stops once full."""
    condition = KeyCondition("GSI3PK").eq(keys.customers_by_name(org_id))
    request: dict[str, Any] = {
        "IndexName": "GSI3",
        "KeyConditionExpression": condition,
        "ScanIndexForward": not descending,
        "ProjectionExpression": LIST_PROJECTION,
        "ExpressionAttributeNames": {"#n": "name", "#l": "language"},
    }
    if after:
        name_lower, customer_id = after
        request["ExclusiveStartKey"] = {
            **keys.customer(org_id, customer_id),
            **keys.customer_by_name(org_id, name_lower, customer_id),
        }
    while True:
        answer = table().query(**request, Limit=batch)
        yield [without_keys(i) for i in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        batch = min(batch * 2, MAX_BATCH)


MAX_BATCH = 1000


def unplaced_customers(org_id: str) -> list[dict[str, Any]]:
    """Customers written before the name-ordered index (no ``GSI3PK``) or before the customer page's
    one Query (no ``GSI1PK``): Query ``ORG#<org>``, SK begins with ``CUS#``, filtered (maintenance:
    the nightly run places them)."""
    prefix = keys.customers_prefix(org_id)
    return list(
        query_all(
            KeyConditionExpression=KeyCondition("PK").eq(prefix["PK"]) & KeyCondition("SK").begins_with(prefix["SK"]),
            FilterExpression=Attr("GSI3PK").not_exists() | Attr("GSI1PK").not_exists(),
            ProjectionExpression="id, #n",
            ExpressionAttributeNames={"#n": "name"},
        )
    )


def place_in_name_order(org_id: str, customer_id: str, name: str) -> bool:
    """Give a customer its GSI3 and GSI1 keys, unless it was renamed (or deleted) since ``name`` was read."""
    itself = keys.customer_itself(org_id, customer_id)
    return update_if(
        keys.customer(org_id, customer_id),
        "SET #l = :l, GSI3PK = :pk, GSI3SK = :sk, GSI1PK = :rpk, GSI1SK = :rsk",
        names={"#n": "name", "#l": "nameLower"},
        values={
            ":n": name,
            ":l": name.lower(),
            ":pk": keys.customers_by_name(org_id),
            ":sk": keys.customer_by_name(org_id, name.lower(), customer_id)["GSI3SK"],
            ":rpk": itself["GSI1PK"],
            ":rsk": itself["GSI1SK"],
        },
        condition="#n = :n",
    )


def create_entries(org_id: str, customer: dict[str, Any]) -> list[dict[str, Any]]:
    """Transaction entries that create a customer and claim its external id."""
    place = {
        **keys.customer_by_name(org_id, customer["nameLower"], customer["id"]),
        **keys.customer_itself(org_id, customer["id"]),
    }
    key = {**keys.customer(org_id, customer["id"]), **place}
    entries = [put({**key, **customer}, condition="attribute_not_exists(PK)")]
    if customer.get("externalId"):
        guard = {**keys.customer_external_id(org_id, customer["externalId"]), "customerId": customer["id"]}
        entries.append(put(guard, condition="attribute_not_exists(PK)"))
    return entries


LEDGER_STATE = ("openItems", "credit", "ledgerVersion", "id")


def update_entries(org_id: str, before: dict[str, Any], changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Entries that set only ``changes`` on a customer, and move its external id's guard with it.

    An UpdateExpression of the changed fields alone: what others write meanwhile (dunning's
    execution, pause, planned action, last contact; the ledger's open items and credit) stays as
    they left it. The external id is conditioned on its value as read, so its guard item moves
    from the id actually stored; ``nameLower`` is the caller's to send with ``name``, and moves the
    customer's place in the name-ordered index (GSI3) with it.
    """
    fields = {k: v for k, v in changes.items() if k not in LEDGER_STATE}
    if "nameLower" in fields:
        fields.update(keys.customer_by_name(org_id, fields["nameLower"], before["id"]))
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":f{i}": value for i, value in enumerate(fields.values())}
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
    condition = "attribute_exists(PK)"
    old, new = before.get("externalId"), changes.get("externalId", before.get("externalId"))
    if old != new:
        names["#x"] = "externalId"
        if old:
            values[":x"] = old
            condition += " AND #x = :x"
        else:
            condition += " AND (attribute_not_exists(#x) OR attribute_type(#x, :nul))"
            values[":nul"] = "NULL"
    entries = [update(keys.customer(org_id, before["id"]), expression, names=names, values=values, condition=condition)]
    if old != new:
        if old:
            entries.append(delete(keys.customer_external_id(org_id, old)))
        if new:
            guard = {**keys.customer_external_id(org_id, new), "customerId": before["id"]}
            entries.append(put(guard, condition="attribute_not_exists(PK)"))
    return entries


def delete_entries(org_id: str, customer: dict[str, Any]) -> list[dict[str, Any]]:
    entries = [delete(keys.customer(org_id, customer["id"]), condition="attribute_exists(PK)")]
    if customer.get("externalId"):
        entries.append(delete(keys.customer_external_id(org_id, customer["externalId"])))
    return entries


def ledger_entry(
    org_id: str,
    customer_id: str,
    *,
    set_open: dict[str, dict[str, Any]] | None = None,
    remove_open: list[str] | None = None,
    credit_delta: dict[str, int] | None = None,
    require_credit: dict[str, int] | None = None,
    now: str,
) -> dict[str, Any]:
    """The customer-side of a ledger transaction: open items set or removed, credit moved.

    Always bumps ``ledgerVersion`` so ratings computed from an older ledger are not saved.
    """
    names: dict[str, str] = {"#v": "ledgerVersion", "#u": "updatedAt"}
    values: dict[str, Any] = {":one": 1, ":zero": 0, ":now": now}
    sets = ["#v = #v + :one", "#u = :now"]
    removes = []
    for index, (invoice_id, item) in enumerate((set_open or {}).items()):
        names[f"#o{index}"] = invoice_id
        values[f":o{index}"] = item
        sets.append(f"openItems.#o{index} = :o{index}")
    for index, invoice_id in enumerate(remove_open or []):
        names[f"#r{index}"] = invoice_id
        removes.append(f"openItems.#r{index}")
    for index, (currency, delta) in enumerate((credit_delta or {}).items()):
        names[f"#c{index}"] = currency
        values[f":c{index}"] = delta
        sets.append(f"credit.#c{index} = if_not_exists(credit.#c{index}, :zero) + :c{index}")
    conditions = ["attribute_exists(PK)"]
    for index, (currency, minimum) in enumerate((require_credit or {}).items()):
        names[f"#k{index}"] = currency
        values[f":k{index}"] = minimum
        conditions.append(f"credit.#k{index} >= :k{index}")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return update(
        keys.customer(org_id, customer_id),
        expression,
        names=names,
        values=values,
        condition=" AND ".join(conditions),
    )


def save_rating(org_id: str, customer_id: str, rating: dict[str, Any], ledger_version: int) -> bool:
    """Store a rating computed from ledger version ``ledger_version``; False if the ledger moved on."""
    return update_if(
        keys.customer(org_id, customer_id),
        "SET rating = :r, averagePaymentDelayDays = :a, overdueAwareDelayDays = :o, ratingBasis = :b, "
        "ratingDrivers = :d",
        "ledgerVersion = :v",
        {
            ":r": rating["letter"],
            ":a": rating["averagePaymentDelayDays"],
            ":o": rating["overdueAwareDelayDays"],
            ":b": rating["basis"],
            ":d": rating["drivers"],
            ":v": ledger_version,
        },
    )


def set_field(org_id: str, customer_id: str, field: str, value: Any) -> None:
    table().update_item(
        Key=keys.customer(org_id, customer_id),
        UpdateExpression="SET #f = :v",
        ExpressionAttributeNames={"#f": field},
        ExpressionAttributeValues={":v": value},
        ConditionExpression="attribute_exists(PK)",
    )


def set_ledger_state(org_id: str, customer_id: str, state: dict[str, Any], ledger_version: int) -> bool:
    """Replace open items and credit (reconciliation), if the ledger did not move meanwhile."""
    return update_if(
        keys.customer(org_id, customer_id),
        "SET openItems = :o, credit = :c, ledgerVersion = ledgerVersion + :one",
        "ledgerVersion = :v",
        {":o": state["openItems"], ":c": state["credit"], ":one": 1, ":v": ledger_version},
    )


def update_dunning(org_id: str, customer_id: str, fields: dict[str, Any]) -> None:
    """Set dunning fields of a customer (execution, pause, open manual action, cycle)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values())}
    table().update_item(
        Key=keys.customer(org_id, customer_id),
        UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
        ConditionExpression="attribute_exists(PK)",
    )


def dunning_entry(org_id: str, customer_id: str, execution: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``update_dunning`` as a transaction entry, while the customer's execution is still ``execution``
    (cancelled when a nudge has started another: what this one planned is moot)."""
    names = {"#x": "execution", **{f"#f{i}": name for i, name in enumerate(fields)}}
    values = {":x": execution, **{f":v{i}": value for i, value in enumerate(fields.values())}}
    return update(
        keys.customer(org_id, customer_id),
        "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
        names=names,
        values=values,
        condition="#x = :x",
    )


def contact_made_entry(org_id: str, customer_id: str, step_id: str | None, contact_at: str | None) -> dict[str, Any]:
    """A reminder sent, on the customer, as a transaction entry: ``step_id`` added to the performed steps
    (the caller passes it only when the customer it read has not performed it) and the last contact (the
    caller passes it only when it is later than the one it read)."""
    sets: list[str] = []
    values: dict[str, Any] = {}
    if contact_at is not None:
        sets += ["lastContactAt = :c", "lastReminderAt = :c"]
        values[":c"] = contact_at
    if step_id is not None:
        sets.append("performedSteps = list_append(if_not_exists(performedSteps, :empty), :step)")
        values |= {":empty": [], ":step": [step_id]}
    return update(
        keys.customer(org_id, customer_id), "SET " + ", ".join(sets), values=values, condition="attribute_exists(PK)"
    )


def mark_step_performed(org_id: str, customer_id: str, step_id: str | None, contact_at: str | None) -> None:
    """Add the step to the cycle's performed steps once; move the last contact forward, never back."""
    if step_id is not None:
        update_if(
            keys.customer(org_id, customer_id),
            "SET performedSteps = list_append(if_not_exists(performedSteps, :empty), :step)",
            "attribute_exists(PK) AND (attribute_not_exists(performedSteps) OR NOT contains(performedSteps, :id))",
            {":empty": [], ":step": [step_id], ":id": step_id},
        )
    if contact_at:
        update_if(
            keys.customer(org_id, customer_id),
            "SET lastContactAt = :c, lastReminderAt = :c",
            "attribute_exists(PK) AND (attribute_not_exists(lastContactAt) OR lastContactAt < :c)",
            {":c": contact_at},
        )


def add_postponed_step(org_id: str, customer_id: str, step_id: str) -> None:
    """Set a step aside while collection is paused (once)."""
    update_if(
        keys.customer(org_id, customer_id),
        "SET postponedSteps = list_append(if_not_exists(postponedSteps, :empty), :step)",
        "attribute_exists(PK) AND (attribute_not_exists(postponedSteps) OR NOT contains(postponedSteps, :id))",
        {":empty": [], ":step": [step_id], ":id": step_id},
    )


def mark_portal_visit(org_id: str, customer_id: str, day: str) -> bool:
    """Note the portal was visited on ``day``; False when it already was that day."""
    return update_if(
        keys.customer(org_id, customer_id),
        "SET portalVisitedOn = :day",
        "attribute_exists(PK) AND (attribute_not_exists(portalVisitedOn) OR portalVisitedOn <> :day)",
        {":day": day},
    )


def claim_portal_message(org_id: str, customer_id: str, message_id: str) -> bool:
    """Claim a portal message id; False when the same message was just sent (a double click)."""
    return update_if(
        keys.customer(org_id, customer_id),
        "SET lastPortalMessageId = :id",
        "attribute_exists(PK) AND (attribute_not_exists(lastPortalMessageId) OR lastPortalMessageId <> :id)",
        {":id": message_id},
    )


def revoke_portal_links(org_id: str, customer_id: str) -> int | None:
    """Move the customer to its next portal-link generation (every link of an earlier one is dead);
    the new generation, or None when the customer is gone."""
    try:
        answer = table().update_item(
            Key=keys.customer(org_id, customer_id),
            UpdateExpression="ADD portalLinkGeneration :one",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise
    return int(answer["Attributes"]["portalLinkGeneration"])
