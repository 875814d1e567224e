"""Create the template's AWS resources in moto, as CloudFormation would on deploy.

Tables (keys, indexes, TTL), buckets, queues (with redrive to their DLQ), topics, SNS
subscriptions, secrets and state machines (ASL from ``DefinitionUri`` with its
``DefinitionSubstitutions``). Resources with no local meaning (alarms, log groups,
policies, layers) are listed as skipped, never silently.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from local.template import ACCOUNT, Template

HANDLED = {
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Serverless::StateMachine",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolClient",
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",  # published by local/ses_events.py
    "AWS::SES::ReceiptRuleSet",  # local/smtp.py applies the rules
    "AWS::SES::ReceiptRule",
    "AWS::SecretsManager::Secret",
    # Served by other parts of the local runtime:
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
}


def provision(template: Template, clients: Any) -> list[str]:
    """Create every resource the local runtime emulates; returns what it skipped and why."""
    for logical_id in template.resources("AWS::DynamoDB::Table"):
        create_table(template, clients("dynamodb"), logical_id)
    for logical_id in template.resources("AWS::S3::Bucket"):
        clients("s3").create_bucket(Bucket=template.name_of(logical_id))
    queues = template.resources("AWS::SQS::Queue")
    # Dead-letter queues first: a redrive policy names an existing queue.
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        create_queue(template, clients("sqs"), logical_id)
    for logical_id in template.resources("AWS::SNS::Topic"):
        clients("sns").create_topic(Name=template.name_of(logical_id))
    for logical_id in template.resources("AWS::SNS::Subscription"):
        subscribe(template, clients("sns"), logical_id)
    for logical_id in template.resources("AWS::Cognito::UserPool"):
        create_user_pool(template, clients("cognito-idp"), logical_id)
    for logical_id in template.resources("AWS::Cognito::UserPoolGroup"):
        props = template.properties(logical_id)
        clients("cognito-idp").create_group(UserPoolId=props["UserPoolId"], GroupName=props["GroupName"])
    for logical_id in template.resources("AWS::Cognito::UserPoolClient"):
        create_user_pool_client(template, clients("cognito-idp"), logical_id)
    for logical_id in template.resources("AWS::SES::ConfigurationSet"):
        clients("ses").create_configuration_set(ConfigurationSet={"Name": template.name_of(logical_id)})
    for logical_id in template.resources("AWS::Serverless::StateMachine"):
        create_state_machine(template, clients("stepfunctions"), logical_id)
    for logical_id in template.resources("AWS::SecretsManager::Secret"):
        create_secret(template, clients("secretsmanager"), logical_id)
    return [
        f"{logical_id} ({resource['Type']})"
        for logical_id, resource in template.resources().items()
        if resource["Type"] not in HANDLED
    ]


def create_table(template: Template, dynamodb: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    args: dict[str, Any] = {
        "TableName": template.name_of(logical_id),
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if args["BillingMode"] == "PROVISIONED":
        args["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
        if key in props:
            args[key] = props[key]
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=args["TableName"],
            TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
        )


def create_queue(template: Template, sqs: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    attributes: dict[str, str] = {
        key: str(props[key])
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
            "FifoQueue",
            "ContentBasedDeduplication",
        )
        if key in props
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    sqs.create_queue(QueueName=template.name_of(logical_id), Attributes=attributes)


def subscribe(template: Template, sns: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    attributes = {}
    if props.get("RawMessageDelivery"):
        attributes["RawMessageDelivery"] = "true"
    if "FilterPolicy" in props:
        attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
    if props["Protocol"] not in ("sqs", "email", "email-json", "http", "https"):
        raise ValueError(f"{logical_id}: SNS protocol {props['Protocol']} is not emulated")
    sns.subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
    )


def state_machine_definition(template: Template, logical_id: str) -> str:
    """The ASL text with ``${Name}`` DefinitionSubstitutions replaced, as SAM does."""
    props = template.properties(logical_id)
    text: str
    if "DefinitionUri" in props:
        text = (template.root / props["DefinitionUri"]).read_text(encoding="utf-8")
    else:
        text = json.dumps(props["Definition"])
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + name + "}", str(value))
    return text


def create_state_machine(template: Template, stepfunctions: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    stepfunctions.create_state_machine(
        name=template.name_of(logical_id),
        definition=state_machine_definition(template, logical_id),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/{template.name_of(logical_id)}-role",
        type=props.get("Type", "STANDARD"),
    )


def create_user_pool(template: Template, cognito: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    schema = [
        {**attribute, "Mutable": bool(attribute.get("Mutable", True))}
        for attribute in props.get("Schema", [])
        if attribute["Name"] not in ("email",)
    ]
    pool = cognito.create_user_pool(
        PoolName=props.get("UserPoolName", template.name_of(logical_id)),
        UsernameAttributes=props.get("UsernameAttributes", []),
        Schema=schema,
    )["UserPool"]
    template.physical_ids[logical_id] = pool["Id"]


def create_user_pool_client(template: Template, cognito: Any, logical_id: str) -> None:
    props = template.properties(logical_id)
    created = cognito.create_user_pool_client(
        UserPoolId=props["UserPoolId"],
        ClientName=props.get("ClientName", template.name_of(logical_id)),
        GenerateSecret=bool(props.get("GenerateSecret", False)),
        ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
        ReadAttributes=props.get("ReadAttributes", []),
    )["UserPoolClient"]
    template.physical_ids[logical_id] = created["ClientId"]


def create_secret(template: Template, secretsmanager: Any, logical_id: str) -> None:
    """The secret with its template value; ``Ref`` gives its ARN, as in CloudFormation."""
    props = template.properties(logical_id)
    value = props.get("SecretString", "{}")
    if "GenerateSecretString" in props:  # as CloudFormation does: a fresh random value
        value = secrets.token_urlsafe(int(props["GenerateSecretString"].get("PasswordLength", 32)))[:64]
    created = secretsmanager.create_secret(Name=template.name_of(logical_id), SecretString=value)
    template.physical_ids[logical_id] = created["ARN"]
