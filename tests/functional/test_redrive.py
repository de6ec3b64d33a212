"""Redrive from a source queue to its dead-letter queue in moto, alone and driven by the consumer."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .conftest import FakeLambdaContext, Queue, body_of, count_messages, receive_all

MAX_RECEIVE_COUNT = 3


@pytest.fixture
def dead_letter_queue(make_queue: Callable[..., Queue]) -> Queue:
    return make_queue()


@pytest.fixture
def source_queue(make_queue: Callable[..., Queue], dead_letter_queue: Queue) -> Queue:
    redrive_policy = {"deadLetterTargetArn": dead_letter_queue.arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    return make_queue(RedrivePolicy=json.dumps(redrive_policy))


def receive_once(sqs: Any, queue: Queue) -> list[dict[str, Any]]:
    """Receive without deleting, with visibility timeout 0 so the message is visible again at once."""
    response = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
        AttributeNames=["ApproximateReceiveCount"],
    )
    return response.get("Messages", [])


# The local server runs moto with corrections that change its receive, so the case runs both ways.
@pytest.mark.parametrize("corrections", [False, True], ids=["plain-moto", "local-server"])
def test_redrive_after_max_receive_count(
    sqs: Any, source_queue: Queue, dead_letter_queue: Queue, corrections: bool, request: pytest.FixtureRequest
):
    if corrections:
        request.getfixturevalue("corrected")
    sent = sqs.send_message(QueueUrl=source_queue.url, MessageBody="poison")

    receives = [receive_once(sqs, source_queue) for _ in range(MAX_RECEIVE_COUNT + 1)]

    for attempt, messages in enumerate(receives[:MAX_RECEIVE_COUNT], start=1):
        assert [message["MessageId"] for message in messages] == [sent["MessageId"]]
        assert messages[0]["Attributes"]["ApproximateReceiveCount"] == str(attempt)
    assert receives[MAX_RECEIVE_COUNT] == []
    # NOTE: moto reports ApproximateReceiveCount 4 on the dead-letter side, so the count is not checked there.
    dead_letters = receive_all(sqs, dead_letter_queue.url)
    assert [message["MessageId"] for message in dead_letters] == [sent["MessageId"]]
    assert dead_letters[0]["Body"] == "poison"
    assert count_messages(sqs, source_queue.url) == (0, 0)


def test_consumer_failures_reach_dead_letter_queue(
    consumer: ModuleType,
    sqs: Any,
    source_queue: Queue,
    dead_letter_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
):
    poison = sqs.send_message(QueueUrl=source_queue.url, MessageBody=body_of("o-1", fail=True))
    healthy = sqs.send_message(QueueUrl=source_queue.url, MessageBody=body_of("o-2"))
    invocations = 0

    # The loop plays the event source mapping. It invokes, then deletes what the handler did not report failed.
    for _ in range(MAX_RECEIVE_COUNT + 2):
        messages = receive_once(sqs, source_queue)
        if not messages:
            break
        invocations += 1
        response = consumer.handler(make_sqs_event(messages, source_queue), lambda_context)
        failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=source_queue.url, ReceiptHandle=message["ReceiptHandle"])

    assert invocations == MAX_RECEIVE_COUNT
    dead_letters = receive_all(sqs, dead_letter_queue.url)
    assert [message["MessageId"] for message in dead_letters] == [poison["MessageId"]]
    assert healthy["MessageId"] not in {message["MessageId"] for message in dead_letters}
    assert count_messages(sqs, source_queue.url) == (0, 0)
