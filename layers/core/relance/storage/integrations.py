"""Connections to source systems: the connection item, its run lease, the records it could not apply,
the payments to write back, and the marks sync leaves on the records it manages (docs/integrations.md)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition

from relance.storage import keys
from relance.storage.records import get, under_prefix
from relance.storage.table import put_if, query_all, table, update_if, without_keys

RECORD_KEYS = {"customer": keys.customer, "invoice": keys.invoice, "contact": keys.contact}


# ---------------------------------------------------------------- the connection


def get_connection(org_id: str, name: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """GetItem ``ORG#<org>``/``INTEGRATION#<name>``."""
    return get(keys.integration(org_id, name), consistent=consistent)


def connections_of(org_id: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``INTEGRATION#``: the organization's connections."""
    return under_prefix(keys.integrations_prefix(org_id))


def save_connection(org_id: str, name: str, fields: dict[str, Any]) -> None:
    """Set ``fields`` on the connection (created if absent); an enabled one joins the schedule's
    GSI1 partition, a disabled one leaves it."""
    fields = {**fields, "name": name, "organizationId": org_id}
    names = {f"#f{i}": field for i, field in enumerate(fields)}
    values = {f":f{i}": value for i, value in enumerate(fields.values())}
    sets = [f"#f{i} = :f{i}" for i in range(len(fields))]
    removes = []
    if "enabled" in fields:
        if fields["enabled"]:
            for index, (attribute, value) in enumerate(keys.enabled_integration_entry(org_id, name).items()):
                names[f"#g{index}"], values[f":g{index}"] = attribute, value
                sets.append(f"#g{index} = :g{index}")
        else:
            names.update({"#g0": "GSI1PK", "#g1": "GSI1SK"})
            removes = ["#g0", "#g1"]
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    table().update_item(
        Key=keys.integration(org_id, name),
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def enabled_connections() -> list[tuple[str, str]]:
    """Query GSI1 ``INTEGRATIONS``: (organization, name) of every enabled connection (the schedule)."""
    condition = KeyCondition("GSI1PK").eq(keys.enabled_integrations())
    items = query_all(
        IndexName="GSI1",
        KeyConditionExpression=condition,
        ProjectionExpression="organizationId, #n",
        ExpressionAttributeNames={"#n": "name"},
    )
    return [(str(item["organizationId"]), str(item["name"])) for item in items]


def take_lease(org_id: str, name: str, lease_id: str, until: str, now: str) -> bool:
    """Claim the connection's run until ``until``: False while another run's lease has not expired."""
    return update_if(
        keys.integration(org_id, name),
        "SET leaseId = :l, leaseUntil = :u",
        "attribute_exists(PK) AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)",
        {":l": lease_id, ":u": until, ":now": now},
    )


def save_progress(org_id: str, name: str, lease_id: str, fields: dict[str, Any]) -> bool:
    """Set ``fields`` (cursor, last run, status) while the run still holds its lease; False if it lost it."""
    names = {f"#f{i}": field for i, field in enumerate(fields)}
    values: dict[str, Any] = {f":f{i}": value for i, value in enumerate(fields.values())}
    values[":l"] = lease_id
    expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
    return update_if(keys.integration(org_id, name), expression, "leaseId = :l", values, names)


def release_lease(org_id: str, name: str, lease_id: str) -> bool:
    return update_if(keys.integration(org_id, name), "REMOVE leaseId, leaseUntil", "leaseId = :l", {":l": lease_id})


# ---------------------------------------------------------------- records it could not apply


def errors_of(org_id: str, name: str) -> list[dict[str, Any]]:
    """Query ``ORG#<org>``, SK begins with ``SYNCERR#<name>#``: the records waiting for review."""
    return under_prefix(keys.sync_errors_prefix(org_id, name))


def put_errors(org_id: str, name: str, errors: list[dict[str, Any]]) -> None:
    """Keep each error (kind, externalId, message, at): a record's later error replaces its earlier one."""
    with table().batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for error in errors:
            batch.put_item(Item={**keys.sync_error(org_id, name, error["kind"], error["externalId"]), **error})


def clear_errors(org_id: str, name: str, records: list[tuple[str, str]]) -> None:
    """Forget the errors of records (kind, externalId) applied since."""
    with table().batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
        for kind, external_id in records:
            batch.delete_item(Key=keys.sync_error(org_id, name, kind, external_id))


# ---------------------------------------------------------------- write-back


def add_write_back(org_id: str, name: str, write_back: dict[str, Any]) -> bool:
    """Put a pending write-back (``paymentId``, ``invoiceId``, ``createdAt``…) unless it exists: False then."""
    payment_id, invoice_id = write_back["paymentId"], write_back["invoiceId"]
    item = {
        **keys.write_back(org_id, name, payment_id, invoice_id),
        **keys.pending_write_back_entry(org_id, name, write_back["createdAt"], payment_id, invoice_id),
        **write_back,
        "status": "pending",
    }
    return put_if(item, "attribute_not_exists(PK)")


def pending_write_backs(org_id: str, name: str) -> list[dict[str, Any]]:
    """Query GSI1 ``ORG#<org>#SYNCWB#<name>``: the write-backs not written yet, oldest first."""
    condition = KeyCondition("GSI1PK").eq(keys.pending_write_backs(org_id, name))
    return [without_keys(i) for i in query_all(IndexName="GSI1", KeyConditionExpression=condition)]


def get_write_back(org_id: str, name: str, payment_id: str, invoice_id: str) -> dict[str, Any] | None:
    """GetItem ``SYNCWB#<name>#<payment>#<invoice>``, strongly consistent (written once)."""
    return get(keys.write_back(org_id, name, payment_id, invoice_id), consistent=True)


def mark_sending(org_id: str, name: str, write_back: dict[str, Any], now: str) -> bool:
    """The write-back is being sent to the source (``sendingAt``): until it is marked written, the source's copy of
    the payment may come back before Relance knows it as its own. False when it is not pending any more."""
    return update_if(
        keys.write_back(org_id, name, write_back["paymentId"], write_back["invoiceId"]),
        "SET sendingAt = :now",
        "#s = :pending",
        {":now": now, ":pending": "pending"},
        {"#s": "status"},
    )


def clear_sending(org_id: str, name: str, write_back: dict[str, Any]) -> None:
    """The source refused the write-back: nothing is on its way to it any more (it stays pending, for review)."""
    table().update_item(
        Key=keys.write_back(org_id, name, write_back["paymentId"], write_back["invoiceId"]),
        UpdateExpression="REMOVE sendingAt",
    )


def write_back_in_flight(org_id: str, name: str, invoice_ids: set[str]) -> bool:
    """Whether a payment of Relance's on one of ``invoice_ids`` is being written to the source now: Query GSI1
    ``ORG#<org>#SYNCWB#<name>`` (pending write-backs), then each on those invoices read again, strongly
    consistent (the index may lag its ``sendingAt``)."""
    for pending in pending_write_backs(org_id, name):
        if pending["invoiceId"] not in invoice_ids:
            continue
        current = get_write_back(org_id, name, str(pending["paymentId"]), str(pending["invoiceId"]))
        if current and current.get("status") == "pending" and current.get("sendingAt"):
            return True
    return False


def mark_written(
    org_id: str, name: str, write_back: dict[str, Any], source_id: str | None, kind: str, now: str
) -> bool:
    """The write-back is done (``written``, with ``sourceId``, the record at the source; ``skipped`` when
    the source keeps no payments): it leaves the pending index, and the source's record is known as
    Relance's own payment. False when it was not pending any more."""
    written = update_if(
        keys.write_back(org_id, name, write_back["paymentId"], write_back["invoiceId"]),
        "SET #s = :done, sourceId = :id, writtenAt = :now REMOVE GSI1PK, GSI1SK, sendingAt",
        "#s = :pending",
        {":done": "written" if source_id else "skipped", ":pending": "pending", ":id": source_id, ":now": now},
        {"#s": "status"},
    )
    if written and source_id:
        table().put_item(
            Item={**keys.source_record(org_id, name, kind, source_id), "recordId": write_back["paymentId"]}
        )
    return written


def written_back_record(org_id: str, name: str, kind: str, source_id: str) -> str | None:
    """GetItem ``SYNCSRC#<name>#<kind>#<source id>``: the Relance record Relance wrote there, or None."""
    item = get(keys.source_record(org_id, name, kind, source_id))
    return str(item["recordId"]) if item else None


# ---------------------------------------------------------------- marks on the records sync manages


def mark_synced(org_id: str, kind: str, record_id: str, name: str, fields: list[str]) -> None:
    """Remember that a customer, invoice or contact is ``name``'s and which of its fields the source sets."""
    table().update_item(
        Key=RECORD_KEYS[kind](org_id, record_id),
        UpdateExpression="SET syncedFrom = :n, syncedFields = :f",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":n": name, ":f": sorted(fields)},
    )


def mark_customer(org_id: str, customer_id: str, field: str, value: Any) -> None:
    """Set (or, with None, remove) one of sync's marks on a customer: ``deletedAtSource``,
    ``sourceLinkWrittenAt``."""
    if value is None:
        table().update_item(
            Key=keys.customer(org_id, customer_id),
            UpdateExpression="REMOVE #f",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames={"#f": field},
        )
        return
    table().update_item(
        Key=keys.customer(org_id, customer_id),
        UpdateExpression="SET #f = :v",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={"#f": field},
        ExpressionAttributeValues={":v": value},
    )
