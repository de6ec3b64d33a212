"""Deploy the dev config into a moto server with the real CDK CLI, then check what moto contains and the run's outcome.

Expected values come from ``config/dev.yaml``; the deployed values come from moto.
"""

import io
import zipfile

import pytest

from sqs_kit.config import load_settings
from sqs_kit.local.report import FunctionInfo, QueueInfo, format_inventory
from sqs_kit.local.runner import (
    HandlerWorker,
    RunSummary,
    count_dead_letters,
    download_code,
    drain_queue,
    message_id_pattern,
)
from sqs_kit.local.server import local_aws_environment

from .conftest import MESSAGE_COUNT, REPO_ROOT, LocalDeployment

pytestmark = pytest.mark.e2e

SETTINGS = load_settings(REPO_ROOT / "config" / "dev.yaml").queues["orders"]
# Lambda's guide: a queue's visibility timeout of six times the function timeout, plus the batching window.
VISIBILITY_TIMEOUT_FACTOR = 6


def main_queue(deployment: LocalDeployment) -> QueueInfo:
    (queue,) = [queue for queue in deployment.inventory.queues if queue.redrive_policy is not None]
    return queue


def dead_letter_queue(deployment: LocalDeployment) -> QueueInfo:
    (queue,) = [queue for queue in deployment.inventory.queues if queue.redrive_policy is None]
    return queue


def function(deployment: LocalDeployment, role: str) -> FunctionInfo:
    (found,) = [function for function in deployment.inventory.functions if role in function.logical_id]
    return found


def test_stack_status_complete(local_deployment: LocalDeployment) -> None:
    assert local_deployment.inventory.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")


def test_queue_retention_from_config(local_deployment: LocalDeployment) -> None:
    assert main_queue(local_deployment).attributes["MessageRetentionPeriod"] == str(SETTINGS.retention)
    assert SETTINGS.retention == 345_600


def test_dead_letter_queue_retention_from_config(local_deployment: LocalDeployment) -> None:
    retention = dead_letter_queue(local_deployment).attributes["MessageRetentionPeriod"]
    assert retention == str(SETTINGS.dead_letter.retention)
    assert SETTINGS.dead_letter.retention == 1_209_600


def test_queue_receive_wait_from_config(local_deployment: LocalDeployment) -> None:
    assert main_queue(local_deployment).attributes["ReceiveMessageWaitTimeSeconds"] == str(SETTINGS.receive_wait)
    assert SETTINGS.receive_wait == 20


def test_queue_visibility_timeout_derived(local_deployment: LocalDeployment) -> None:
    assert SETTINGS.consumer is not None
    expected = VISIBILITY_TIMEOUT_FACTOR * SETTINGS.consumer.timeout + SETTINGS.consumer.batching_window
    assert main_queue(local_deployment).attributes["VisibilityTimeout"] == str(expected)
    assert expected == 180


def test_redrive_policy_targets_dead_letter_queue(local_deployment: LocalDeployment) -> None:
    redrive = main_queue(local_deployment).redrive_policy
    assert redrive is not None
    assert redrive["deadLetterTargetArn"] == dead_letter_queue(local_deployment).arn
    assert int(redrive["maxReceiveCount"]) == SETTINGS.dead_letter.max_receive_count == 5


def test_event_source_mapping_reports_failures(local_deployment: LocalDeployment) -> None:
    (mapping,) = local_deployment.inventory.mappings
    assert mapping.function_response_types == ("ReportBatchItemFailures",)
    assert mapping.batch_size == 10
    assert mapping.event_source_arn == main_queue(local_deployment).arn
    assert mapping.function_arn == function(local_deployment, "Consumer").arn


def test_run_processes_every_message(local_deployment: LocalDeployment) -> None:
    summary = local_deployment.summary
    assert len(summary.sent_ids) == MESSAGE_COUNT
    assert summary.processed_ids == summary.sent_ids
    assert summary.lost_ids == set()
    assert summary.dead_letter_ids == set()


def test_report_lists_skipped_queue_policies(local_deployment: LocalDeployment) -> None:
    report = "\n".join(format_inventory(local_deployment.inventory))
    skipped = [gap for gap in local_deployment.inventory.gaps if gap.resource_type == "AWS::SQS::QueuePolicy"]
    assert len(skipped) == 2
    assert "the TLS-only queue policy exists in the template but moto's CloudFormation skips" in report


@pytest.mark.parametrize("role", ["Producer", "Consumer"])
def test_deployed_code_bundles_powertools(local_deployment: LocalDeployment, role: str) -> None:
    deployed = function(local_deployment, role)
    buffer = io.BytesIO()
    local_deployment.client("s3").download_fileobj(deployed.code_bucket, deployed.code_key, buffer)
    names = zipfile.ZipFile(buffer).namelist()
    assert "handler.py" in names
    assert any(name.startswith("aws_lambda_powertools/") for name in names)


def test_failing_message_reaches_dead_letter_queue(local_deployment: LocalDeployment) -> None:
    # GIVEN one message whose body makes the consumer's business logic fail
    deployment = local_deployment
    environment = local_aws_environment(deployment.server.endpoint_url, {})
    sqs = deployment.client("sqs")
    s3 = deployment.client("s3")
    pattern = message_id_pattern("e2efail")
    producer = function(deployment, "Producer")
    consumer = function(deployment, "Consumer")
    (mapping,) = deployment.inventory.mappings
    summary = RunSummary()
    event = {"messages": [{"id": "local-e2efail-0", "body": {"order_id": "local-e2efail-0", "fail": True}}]}
    with HandlerWorker(producer, download_code(s3, producer, deployment.work_dir), environment) as worker:
        sent = worker.invoke(event)
    assert sent.ok, sent.error

    # WHEN the runner drains the queue
    with HandlerWorker(consumer, download_code(s3, consumer, deployment.work_dir), environment) as worker:
        drain_queue(worker, mapping, main_queue(deployment), sqs=sqs, summary=summary, pattern=pattern)

    # THEN it failed once per receive and then moved to the dead-letter queue
    assert summary.processed_ids == set()
    assert summary.failed_records == SETTINGS.dead_letter.max_receive_count
    assert count_dead_letters(sqs, dead_letter_queue(deployment), pattern) == {"local-e2efail-0"}
