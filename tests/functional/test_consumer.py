"""Functional tests of the consumer handler with events built from messages received from moto."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from .conftest import FakeLambdaContext, Queue, body_of, receive_all


@pytest.fixture
def standard_queue(make_queue: Callable[..., Queue]) -> Queue:
    return make_queue()


@pytest.fixture
def fifo_queue(make_queue: Callable[..., Queue]) -> Queue:
    return make_queue(fifo=True)


@pytest.fixture
def process_order_calls(consumer: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record each payload passed to the consumer's business function, which still runs."""
    calls: list[Any] = []
    original = consumer.process_order

    def spy(payload: Any) -> str:
        calls.append(payload)
        return original(payload)

    monkeypatch.setattr(consumer, "process_order", spy)
    return calls


def send_and_receive(sqs: Any, queue: Queue, bodies: list[str], groups: list[str] | None = None) -> list[dict]:
    """Send the bodies in order and return the received messages in the same order."""
    for position, body in enumerate(bodies):
        extra = {"MessageGroupId": groups[position], "MessageDeduplicationId": str(position)} if groups else {}
        sqs.send_message(QueueUrl=queue.url, MessageBody=body, **extra)
    received = {message["Body"]: message for message in receive_all(sqs, queue.url)}
    assert len(received) == len(bodies)
    return [received[body] for body in bodies]


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_consumer_reports_only_failed_record(
    consumer: ModuleType, sqs: Any, standard_queue: Queue, make_sqs_event, lambda_context: FakeLambdaContext
):
    m1, m2, m3 = send_and_receive(sqs, standard_queue, [body_of("m1"), body_of("m2", fail=True), body_of("m3")])

    response = consumer.handler(make_sqs_event([m1, m2, m3], standard_queue), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": m2["MessageId"]}]}


def test_consumer_all_succeed_returns_empty(
    consumer: ModuleType,
    sqs: Any,
    standard_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
    process_order_calls: list[Any],
):
    messages = send_and_receive(sqs, standard_queue, [body_of("m1"), body_of("m2"), body_of("m3")])

    response = consumer.handler(make_sqs_event(messages, standard_queue), lambda_context)

    assert response == {"batchItemFailures": []}
    assert [payload["order_id"] for payload in process_order_calls] == ["m1", "m2", "m3"]


def test_consumer_malformed_json_fails_record(
    consumer: ModuleType,
    sqs: Any,
    standard_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
    log_lines,
):
    log_lines(consumer)
    good, malformed = send_and_receive(sqs, standard_queue, [body_of("m1"), '{"order_id": "m2"'])

    response = consumer.handler(make_sqs_event([good, malformed], standard_queue), lambda_context)

    assert response == {"batchItemFailures": [{"itemIdentifier": malformed["MessageId"]}]}
    warnings = [record for record in log_lines(consumer) if record["message"] == "Record body is not valid JSON"]
    assert len(warnings) == 1
    assert warnings[0]["message_id"] == malformed["MessageId"]
    assert warnings[0]["level"] == "WARNING"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps({"customer": "c-1"}), id="missing-order-id"),
        pytest.param(json.dumps(["m1"]), id="json-array"),
        pytest.param(json.dumps({"order_id": ""}), id="empty-order-id"),
    ],
)
def test_consumer_invalid_order_fails_record(
    consumer: ModuleType,
    sqs: Any,
    standard_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
    body: str,
):
    good, bad = send_and_receive(sqs, standard_queue, [body_of("m1"), body])

    response = consumer.handler(make_sqs_event([good, bad], standard_queue), lambda_context)

    assert failed_ids(response) == [bad["MessageId"]]


def test_consumer_all_failed_reports_ids(
    consumer: ModuleType, sqs: Any, standard_queue: Queue, make_sqs_event, lambda_context: FakeLambdaContext
):
    messages = send_and_receive(sqs, standard_queue, [body_of(f"m{i}", fail=True) for i in range(3)])

    # Every record failing still returns a response rather than raising.
    response = consumer.handler(make_sqs_event(messages, standard_queue), lambda_context)

    identifiers = failed_ids(response)
    assert identifiers == [message["MessageId"] for message in messages]
    assert all(isinstance(identifier, str) and identifier for identifier in identifiers)
    assert not {message["ReceiptHandle"] for message in messages} & set(identifiers)
    assert all(set(failure) == {"itemIdentifier"} for failure in response["batchItemFailures"])


@pytest.mark.parametrize(
    "event",
    [
        pytest.param({}, id="no-records"),
        pytest.param({"Records": []}, id="empty-records"),
        pytest.param({"Records": {"messageId": "m1"}}, id="records-not-list"),
        pytest.param({"Records": ["m1"]}, id="record-not-object"),
    ],
)
def test_consumer_rejects_unusable_event(
    consumer: ModuleType, lambda_context: FakeLambdaContext, process_order_calls: list[Any], event: dict[str, Any]
):
    with pytest.raises(consumer.InvalidEventError) as raised:
        consumer.handler(event, lambda_context)

    assert str(raised.value) == "expected an SQS event with a non-empty 'Records' list of objects"
    assert process_order_calls == []


def test_consumer_never_deletes_messages(
    consumer: ModuleType, sqs: Any, standard_queue: Queue, make_sqs_event, lambda_context: FakeLambdaContext
):
    deletes: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        deletes.append(event_name)

    sqs.meta.events.register("provide-client-params.sqs.DeleteMessage", record)
    sqs.meta.events.register("provide-client-params.sqs.DeleteMessageBatch", record)
    messages = send_and_receive(sqs, standard_queue, [body_of("m1"), body_of("m2", fail=True)])

    consumer.handler(make_sqs_event(messages, standard_queue), lambda_context)

    assert deletes == []
    # The consumer module has no SQS client of its own to delete with.
    assert not hasattr(consumer, "boto3")


def test_fifo_consumer_stops_at_failure(
    consumer: ModuleType,
    sqs: Any,
    fifo_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
    process_order_calls: list[Any],
):
    bodies = [body_of(f"f{i}", fail=(i == 3)) for i in range(1, 6)]
    messages = send_and_receive(sqs, fifo_queue, bodies, groups=["g1"] * 5)

    response = consumer.handler(make_sqs_event(messages, fifo_queue), lambda_context)

    assert len(process_order_calls) == 3
    assert failed_ids(response) == [message["MessageId"] for message in messages[2:]]


def test_fifo_consumer_fails_later_groups(
    consumer: ModuleType,
    sqs: Any,
    fifo_queue: Queue,
    make_sqs_event,
    lambda_context: FakeLambdaContext,
    process_order_calls: list[Any],
):
    bodies = [body_of("a"), body_of("b", fail=True), body_of("c"), body_of("d")]
    a, b, c, d = send_and_receive(sqs, fifo_queue, bodies, groups=["g1", "g1", "g2", "g1"])

    response = consumer.handler(make_sqs_event([a, b, c, d], fifo_queue), lambda_context)

    assert failed_ids(response) == [b["MessageId"], c["MessageId"], d["MessageId"]]
    assert [payload["order_id"] for payload in process_order_calls] == ["a", "b"]


def test_fifo_consumer_first_failure_no_raise(
    consumer: ModuleType, sqs: Any, fifo_queue: Queue, make_sqs_event, lambda_context: FakeLambdaContext
):
    messages = send_and_receive(sqs, fifo_queue, [body_of("a", fail=True), body_of("b")], groups=["g1", "g1"])

    response = consumer.handler(make_sqs_event(messages, fifo_queue), lambda_context)

    assert failed_ids(response) == [message["MessageId"] for message in messages]
