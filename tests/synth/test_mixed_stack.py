"""The mixed environment: a FIFO queue, a standard queue and an imported queue in one stack."""

import re
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.synth.helpers import actions_of, only_resource, policy_statements, resources_of_type, synth_env

IMPORTED_ARN = "arn:aws:sqs:us-east-1:123456789012:shared-events"
FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")


@pytest.fixture(scope="module")
def template() -> Template:
    return synth_env("mixed")[0]


def queues_by_name(template: Template) -> dict[str, dict[str, Any]]:
    queues = resources_of_type(template, "AWS::SQS::Queue").values()
    return {queue["Properties"]["QueueName"]: queue["Properties"] for queue in queues}


def test_fifo_queue_and_dlq(template: Template) -> None:
    fifo = {name: props for name, props in queues_by_name(template).items() if name.endswith(".fifo")}
    assert len(fifo) == 2
    for name, properties in fifo.items():
        assert FIFO_NAME.fullmatch(name), name
        assert properties["FifoQueue"] is True


def test_fifo_high_throughput(template: Template) -> None:
    _, payments = only_resource(template, "AWS::SQS::Queue", FifoThroughputLimit="perMessageGroupId")
    assert payments["Properties"]["DeduplicationScope"] == "messageGroup"
    assert payments["Properties"]["ContentBasedDeduplication"] is False
    assert payments["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 3


def test_standard_queues_omit_fifo(template: Template) -> None:
    standard = {name: props for name, props in queues_by_name(template).items() if not name.endswith(".fifo")}
    assert len(standard) == 2
    for name, properties in standard.items():
        assert "FifoQueue" not in properties, name
        assert "DeduplicationScope" not in properties, name


def test_queue_names_unique(template: Template) -> None:
    names = [queue["Properties"]["QueueName"] for queue in resources_of_type(template, "AWS::SQS::Queue").values()]
    assert len(names) == 4
    assert len(set(names)) == 4


def test_fifo_consumer_has_no_window(template: Template) -> None:
    payments_id, _ = only_resource(template, "AWS::SQS::Queue", FifoThroughputLimit="perMessageGroupId")
    mappings = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    fifo_mapping = [m for m in mappings if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [payments_id, "Arn"]}]
    assert len(fifo_mapping) == 1
    assert fifo_mapping[0]["Properties"]["BatchSize"] == 10
    assert "MaximumBatchingWindowInSeconds" not in fifo_mapping[0]["Properties"]


def test_fifo_producer_told_fifo(template: Template) -> None:
    producers = [
        function["Properties"]["Environment"]["Variables"]
        for function in resources_of_type(template, "AWS::Lambda::Function").values()
        if "QUEUE_URL" in function["Properties"]["Environment"]["Variables"]
    ]
    assert sorted(variables["QUEUE_FIFO"] for variables in producers) == ["false", "false", "true"]


def test_imported_queue_mapping(template: Template) -> None:
    _, mapping = only_resource(template, "AWS::Lambda::EventSourceMapping", EventSourceArn=IMPORTED_ARN)
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}


def test_imported_queue_grants_scoped(template: Template) -> None:
    consumer = policy_statements(template, "SharedEventsConsumerRole")
    sqs_statements = [s for s in consumer if any(a.startswith("sqs:") for a in actions_of(s))]
    assert len(sqs_statements) == 1
    assert sqs_statements[0]["Resource"] == IMPORTED_ARN
    producer = policy_statements(template, "SharedEventsProducerRole")
    send = [s for s in producer if actions_of(s) == {"sqs:SendMessage"}]
    assert len(send) == 1
    assert send[0]["Resource"] == IMPORTED_ARN


def test_imported_queue_not_created(template: Template) -> None:
    assert "shared-events" not in queues_by_name(template)


def test_ssm_parameters_per_queue(template: Template) -> None:
    names = sorted(p["Properties"]["Name"] for p in resources_of_type(template, "AWS::SSM::Parameter").values())
    assert names == [
        "/sqs-kit-mixed/queues/notifications/arn",
        "/sqs-kit-mixed/queues/notifications/url",
        "/sqs-kit-mixed/queues/payments/arn",
        "/sqs-kit-mixed/queues/payments/url",
    ]


def test_outputs_per_queue_without_exports(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    for construct_id in ("Payments", "Notifications"):
        assert f"{construct_id}QueueUrl" in outputs
        assert f"{construct_id}QueueArn" in outputs
    assert not any("Export" in output for output in outputs.values())
