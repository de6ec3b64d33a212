"""The local event source against SQS in moto, in process, with fake handlers instead of workers.

GIVEN a queue with messages, WHEN one batch is processed with a handler's
response, THEN the messages Lambda would delete are gone and the others stay.
"""

from collections.abc import Mapping
from typing import Any

import pytest

from sqs_kit.local.eventsource import EventSource, SourceSettings, TimeScale, Tracker, failed_ids
from sqs_kit.local.report import FunctionInfo, MappingInfo, QueueInfo
from sqs_kit.local.runner import Invocation

from .conftest import Queue, count_messages

MESSAGE_COUNT = 3


class FakeInvoker:
    """Return one fixed invocation, whose response may name the batch's first message id."""

    def __init__(self, response: Any, *, error: str | None = None) -> None:
        self.response = response
        self.error = error
        self.events: list[Mapping[str, Any]] = []

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        self.events.append(event)
        first_id = event["Records"][0]["messageId"]
        response = self.response(first_id) if callable(self.response) else self.response
        return Invocation(response=response, error=self.error)


def source_for(sqs: Any, queue: Queue, *, partial: bool = True) -> EventSource:
    function = FunctionInfo("Consumer", "consumer", "arn:fn", "handler.handler", "python3.14", (), 30, 256, {}, "", "")
    mapping = MappingInfo(
        uuid="m",
        function_arn="arn:fn",
        event_source_arn=queue.arn,
        batch_size=10,
        batching_window_seconds=0,
        function_response_types=("ReportBatchItemFailures",) if partial else (),
        maximum_concurrency=2,
        state="Enabled",
    )
    attributes = {"QueueArn": queue.arn, "VisibilityTimeout": "30"}
    settings = SourceSettings.from_deployment(function, mapping, QueueInfo("Q", queue.url, attributes), TimeScale())
    return EventSource(settings, sqs=sqs, invokers=[FakeInvoker(None)] * 2, tracker=Tracker())


@pytest.fixture
def loaded_queue(sqs: Any, make_queue: Any) -> Queue:
    queue = make_queue()
    for number in range(MESSAGE_COUNT):
        sqs.send_message(QueueUrl=queue.url, MessageBody=f'{{"order_id": "o{number}"}}')
    return queue


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"batchItemFailures": [{"itemIdentifier": ""}]}, id="empty-identifier"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": None}]}, id="null-identifier"),
        pytest.param({"batchItemFailures": [{}]}, id="missing-identifier"),
        pytest.param({"batchItemFailures": [{"ItemIdentifier": "x"}]}, id="wrong-key-casing"),
        pytest.param({"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, id="unknown-id"),
        pytest.param({"BatchItemFailures": []}, id="wrong-list-casing"),
        pytest.param({"batchItemFailures": ["id"]}, id="non-dict-item"),
        pytest.param(["not", "an", "object"], id="non-dict-response"),
    ],
)
def test_process_batch_invalid_partial_response_fails_whole_batch(sqs: Any, loaded_queue: Queue, response: Any) -> None:
    source = source_for(sqs, loaded_queue)
    messages = source.gather_batch()

    failed = source.process_batch(FakeInvoker(response), messages)

    assert failed == {message["MessageId"] for message in messages}
    assert count_messages(sqs, loaded_queue.url) == (0, MESSAGE_COUNT)


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(None, id="null-response"),
        pytest.param({}, id="empty-response"),
        pytest.param({"batchItemFailures": []}, id="empty-list"),
        pytest.param({"batchItemFailures": None}, id="null-list"),
    ],
)
def test_process_batch_empty_partial_response_deletes_all(sqs: Any, loaded_queue: Queue, response: Any) -> None:
    source = source_for(sqs, loaded_queue)

    failed = source.process_batch(FakeInvoker(response), source.gather_batch())

    assert failed == set()
    assert count_messages(sqs, loaded_queue.url) == (0, 0)


def test_process_batch_reported_failure_keeps_only_that_message(sqs: Any, loaded_queue: Queue) -> None:
    source = source_for(sqs, loaded_queue)
    messages = source.gather_batch()

    failed = source.process_batch(
        FakeInvoker(lambda first: {"batchItemFailures": [{"itemIdentifier": first}]}), messages
    )

    assert failed == {messages[0]["MessageId"]}
    assert count_messages(sqs, loaded_queue.url) == (0, 1)


def test_process_batch_handler_error_fails_whole_batch(sqs: Any, loaded_queue: Queue) -> None:
    source = source_for(sqs, loaded_queue)

    failed = source.process_batch(FakeInvoker(None, error="OrderFailedError: boom"), source.gather_batch())

    assert len(failed) == MESSAGE_COUNT
    assert source.tracker.failed_invocations == 1


def test_process_batch_without_partial_responses_ignores_the_response(sqs: Any, loaded_queue: Queue) -> None:
    source = source_for(sqs, loaded_queue, partial=False)

    failed = source.process_batch(FakeInvoker({"batchItemFailures": [{"itemIdentifier": ""}]}), source.gather_batch())

    assert failed == set()


def test_failed_ids_timeout_fails_whole_batch() -> None:
    invocation = Invocation(error="Task timed out after 1 s", timed_out=True)

    assert failed_ids(invocation, ["a", "b"], partial=True) == {"a", "b"}


@pytest.mark.parametrize(
    ("factor", "seconds", "expected"),
    [pytest.param(60, 180, 3, id="dev-queue"), pytest.param(180, 30, 1, id="floor-of-one-second")],
)
def test_time_scale_visibility_timeout(factor: float, seconds: int, expected: int) -> None:
    assert TimeScale(factor).visibility_timeout(seconds) == expected
