"""The runtime created template.yaml's resources as CloudFormation would."""

import json

from relance import aws


def test_table_has_its_index_and_ttl(runtime):
    name = runtime.template.name_of("Table")
    dynamodb = aws.client("dynamodb")

    described = dynamodb.describe_table(TableName=name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]

    assert [i["IndexName"] for i in described["GlobalSecondaryIndexes"]] == ["GSI1", "GSI2", "GSI3"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")


def test_mail_events_queue_redrives_to_its_dead_letter_queue(runtime):
    url = runtime.template.queue_url("MailEventsQueue")

    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == runtime.template.arn_of("MailEventsDeadLetterQueue")
    assert int(redrive["maxReceiveCount"]) == 5


def test_mail_events_topic_feeds_the_queue(runtime):
    topic = runtime.template.arn_of("MailEventsTopic")

    subscriptions = aws.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]

    assert [s["Endpoint"] for s in subscriptions] == [runtime.template.arn_of("MailEventsQueue")]


def test_documents_bucket_exists(runtime):
    name = runtime.template.name_of("DocumentsBucket")

    assert name in [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]


def test_what_has_no_local_meaning_is_listed_as_skipped(runtime):
    assert "MailEventsDeadLetterAlarm (AWS::CloudWatch::Alarm)" in runtime.skipped
