"""Which records Lambda retries after a batch, by the partial-batch rules."""

from local.sqs import EventSourceMapping, failed_ids

BATCH = {"m1", "m2", "m3"}


def mapping(report: bool) -> EventSourceMapping:
    return EventSourceMapping(None, "url", "arn", 10, report)  # type: ignore[arg-type]


def test_named_failures_are_retried_alone():
    result = {"batchItemFailures": [{"itemIdentifier": "m2"}]}

    assert failed_ids(mapping(True), result, BATCH) == {"m2"}


def test_empty_answer_means_all_succeeded():
    assert failed_ids(mapping(True), None, BATCH) == set()
    assert failed_ids(mapping(True), {"batchItemFailures": []}, BATCH) == set()


def test_unknown_or_empty_identifier_fails_the_whole_batch():
    assert failed_ids(mapping(True), {"batchItemFailures": [{"itemIdentifier": "zz"}]}, BATCH) == BATCH
    assert failed_ids(mapping(True), {"batchItemFailures": [{"itemIdentifier": ""}]}, BATCH) == BATCH


def test_without_report_batch_item_failures_the_answer_is_ignored():
    assert failed_ids(mapping(False), {"batchItemFailures": [{"itemIdentifier": "m1"}]}, BATCH) == set()
