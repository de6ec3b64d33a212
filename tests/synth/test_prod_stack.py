"""Targeted checks of the prod environment's template: retained resources and a customer-managed key."""

import pytest
from aws_cdk.assertions import Template

from tests.synth.helpers import actions_of, only_resource, policy_statements, resources_of_type, synth_env


@pytest.fixture(scope="module")
def template() -> Template:
    return synth_env("prod")[0]


def key_id(template: Template) -> str:
    """Return the logical id of the key that encrypts the orders queues (the alarm topic has its own)."""
    logical_id, _ = only_resource(template, "AWS::KMS::Key", Description="Encrypts the messages of sqs-kit-prod/Orders")
    return logical_id


def test_every_queue_retained(template: Template) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert len(queues) == 2
    for logical_id, queue in queues.items():
        assert queue.get("DeletionPolicy") == "Retain", logical_id
        assert queue.get("UpdateReplacePolicy") == "Retain", logical_id


def test_key_and_logs_retained(template: Template) -> None:
    for resource_type in ("AWS::KMS::Key", "AWS::Logs::LogGroup"):
        resources = resources_of_type(template, resource_type)
        assert len(resources) == 2, resource_type
        for logical_id, resource in resources.items():
            assert resource.get("DeletionPolicy") == "Retain", logical_id
            assert resource.get("UpdateReplacePolicy") == "Retain", logical_id


def test_key_rotation_on(template: Template) -> None:
    keys = resources_of_type(template, "AWS::KMS::Key")
    assert len(keys) == 2
    for logical_id, key in keys.items():
        assert key["Properties"]["EnableKeyRotation"] is True, logical_id


def test_queues_share_customer_key(template: Template) -> None:
    key = key_id(template)
    for logical_id, queue in resources_of_type(template, "AWS::SQS::Queue").items():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key, "Arn"]}, logical_id
        assert "SqsManagedSseEnabled" not in queue["Properties"], logical_id


def test_prod_settings_applied(template: Template) -> None:
    _, main = only_resource(template, "AWS::SQS::Queue", MessageRetentionPeriod=604800)
    # Six times the 60 s consumer timeout plus the 5 s batching window.
    assert main["Properties"]["VisibilityTimeout"] == 365
    _, mapping = only_resource(template, "AWS::Lambda::EventSourceMapping")
    assert mapping["Properties"]["MaximumBatchingWindowInSeconds"] == 5
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 50}


def test_producer_kms_actions_exact(template: Template) -> None:
    key = key_id(template)
    kms_statements = [s for s in policy_statements(template, "OrdersProducerRole") if "kms:Decrypt" in actions_of(s)]
    assert len(kms_statements) == 1
    assert actions_of(kms_statements[0]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert kms_statements[0]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}


def test_consumer_kms_decrypt_only(template: Template) -> None:
    key = key_id(template)
    kms_statements = [
        s for s in policy_statements(template, "OrdersConsumerRole") if any(a.startswith("kms:") for a in actions_of(s))
    ]
    assert len(kms_statements) == 1
    assert actions_of(kms_statements[0]) == {"kms:Decrypt"}
    assert kms_statements[0]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}


def test_producer_cannot_consume(template: Template) -> None:
    actions = set().union(*(actions_of(s) for s in policy_statements(template, "OrdersProducerRole")))
    assert "sqs:SendMessage" in actions
    assert not actions & {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"}


def test_consumer_cannot_send(template: Template) -> None:
    actions = set().union(*(actions_of(s) for s in policy_statements(template, "OrdersConsumerRole")))
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= actions
    assert "sqs:SendMessage" not in actions


def test_no_wildcard_actions(template: Template) -> None:
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not {"sqs:*", "kms:*"} & actions_of(statement), statement
