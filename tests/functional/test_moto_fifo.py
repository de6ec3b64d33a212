"""moto's FIFO group order after a visibility timeout, with and without the local server's correction."""

import time
from collections.abc import Iterator
from typing import Any

import boto3
import moto.sqs.models as sqs_models
import pytest
from moto import mock_aws

from sqs_kit.local.moto_server import apply_fifo_correction

VISIBILITY_TIMEOUT_SECONDS = 1


@pytest.fixture
def fifo_queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        attributes = {"FifoQueue": "true", "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS)}
        url = sqs.create_queue(QueueName="group-order.fifo", Attributes=attributes)["QueueUrl"]
        for index in range(3):
            sqs.send_message(
                QueueUrl=url, MessageBody=f"m{index}", MessageGroupId="g1", MessageDeduplicationId=str(index)
            )
        yield sqs, url


def receive_after_timeout(sqs: Any, url: str) -> list[str]:
    """Receive the whole group, let its visibility timeout end, and receive again."""
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in first] == ["m0", "m1", "m2"]
    time.sleep(VISIBILITY_TIMEOUT_SECONDS + 0.2)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in again]


def test_plain_moto_reorders_group(fifo_queue: tuple[Any, str]) -> None:
    # When this fails, moto returns the group in order by itself and moto_server.py can go.
    assert receive_after_timeout(*fifo_queue) == ["m2"]


def test_correction_keeps_group_order(fifo_queue: tuple[Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Recorded first, so that the patch is undone after the test.
    monkeypatch.setattr(sqs_models.SQSBackend, "receive_message", sqs_models.SQSBackend.receive_message)
    monkeypatch.setattr(sqs_models.Queue, "messages", sqs_models.Queue.messages)
    apply_fifo_correction()
    assert receive_after_timeout(*fifo_queue) == ["m0", "m1", "m2"]
