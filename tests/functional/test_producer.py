"""Functional tests of the producer handler against SQS in moto and a botocore Stubber."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from .conftest import REGION, FakeLambdaContext, Queue, count_messages, receive_all

KIB = 1024
MIB = 1024 * KIB
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/stubbed"


def no_sleep(_seconds: float) -> None:
    """Skip the backoff so retry tests run instantly."""


def entry_sizes(calls: list[list[dict[str, Any]]]) -> list[int]:
    return [len(entries) for entries in calls]


def payload_bytes(entries: list[dict[str, Any]]) -> int:
    """Return the size SQS counts for a batch, which is its UTF-8 bodies plus attribute names, types and values."""
    total = 0
    for entry in entries:
        total += len(entry["MessageBody"].encode())
        for name, value in entry.get("MessageAttributes", {}).items():
            total += len(f"{name}{value['DataType']}{value['StringValue']}".encode())
    return total


# GIVEN 25 messages WHEN sent THEN three batches of 10, 10 and 5 entries.
def test_producer_splits_25_messages(producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls):
    queue = make_queue()
    messages = [{"body": f"message {i}", "id": f"m{i}"} for i in range(25)]

    result = producer.send_messages(sqs, queue.url, messages, sleep=no_sleep)

    assert entry_sizes(batch_calls) == [10, 10, 5]
    assert result["sent"] == 25
    assert len(set(result["message_ids"])) == 25
    assert count_messages(sqs, queue.url) == (25, 0)


def test_moto_rejects_eleven_entries(sqs: Any, make_queue: Callable[..., Queue]):
    # SQS in moto rejects an 11-entry batch, so the 10-entry limit the producer keeps to is real here.
    queue = make_queue()
    entries = [{"Id": str(i), "MessageBody": "x"} for i in range(11)]

    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=queue.url, Entries=entries)

    assert raised.value.response["Error"]["Code"] == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    assert (
        raised.value.response["Error"]["Message"] == "Maximum number of entries per request are 10. You have sent 11."
    )


def test_producer_keeps_input_order(producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue]):
    queue = make_queue()
    messages = [{"body": f"message {i}"} for i in range(12)]

    result = producer.send_messages(sqs, queue.url, messages, sleep=no_sleep)

    received = {message["MessageId"]: message["Body"] for message in receive_all(sqs, queue.url)}
    assert [received[message_id] for message_id in result["message_ids"]] == [m["body"] for m in messages]


def test_producer_splits_by_payload_bytes(
    producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls
):
    queue = make_queue()
    messages = [{"body": str(i) * (300 * KIB)} for i in range(7)]

    producer.send_messages(sqs, queue.url, messages, sleep=no_sleep)

    assert entry_sizes(batch_calls) == [3, 3, 1]
    for entries in batch_calls:
        assert payload_bytes(entries) <= producer.SQS_MAX_BATCH_PAYLOAD_BYTES
    assert count_messages(sqs, queue.url) == (7, 0)


ATTRIBUTES = {"kind": "order"}
ATTRIBUTE_BYTES = len("kindStringorder")


@pytest.mark.parametrize(
    ("body_sizes", "attributes", "expected_batches"),
    [
        pytest.param([MIB // 2, MIB // 2], {}, [2], id="exactly-1-MiB"),
        pytest.param([MIB // 2, MIB // 2 + 1], {}, [1, 1], id="1-byte-over"),
        pytest.param([MIB // 2 - ATTRIBUTE_BYTES] * 2, ATTRIBUTES, [2], id="attributes-fit"),
        pytest.param([MIB // 2 - ATTRIBUTE_BYTES + 1] * 2, ATTRIBUTES, [1, 1], id="attributes-push-over"),
    ],
)
def test_producer_batch_byte_boundary(
    producer: ModuleType,
    sqs: Any,
    make_queue: Callable[..., Queue],
    batch_calls,
    body_sizes: list[int],
    attributes: dict[str, str],
    expected_batches: list[int],
):
    queue = make_queue()
    messages = [{"body": "x" * size, "attributes": attributes} for size in body_sizes]

    producer.send_messages(sqs, queue.url, messages, sleep=no_sleep)

    assert entry_sizes(batch_calls) == expected_batches
    assert count_messages(sqs, queue.url) == (2, 0)


def test_producer_rejects_oversized_message(
    producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls
):
    queue = make_queue()
    messages = [{"body": "small", "id": "ok"}, {"body": "x" * 1025, "id": "big"}]

    with pytest.raises(producer.InvalidMessageError) as raised:
        producer.send_messages(sqs, queue.url, messages, max_message_size_bytes=1024, sleep=no_sleep)

    assert raised.value.problems == [
        "message 'big': size is 1,025 bytes (UTF-8 body plus attributes), above the queue's maximum of 1,024 "
        "bytes. Shrink it, or store the payload elsewhere and send a reference"
    ]
    assert "nothing was sent" in str(raised.value)
    assert batch_calls == []
    assert count_messages(sqs, queue.url) == (0, 0)


def test_producer_counts_utf8_bytes(producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls):
    queue = make_queue()
    # 600 characters but 1,200 bytes in UTF-8.
    messages = [{"body": "é" * 600, "id": "accented"}]

    with pytest.raises(producer.InvalidMessageError) as raised:
        producer.send_messages(sqs, queue.url, messages, max_message_size_bytes=1024, sleep=no_sleep)

    assert "message 'accented': size is 1,200 bytes" in raised.value.problems[0]
    assert batch_calls == []


def test_producer_lists_every_invalid_message(producer: ModuleType, sqs: Any, batch_calls):
    messages = [
        {"body": "", "id": "empty"},
        {"body": "x", "id": "dup"},
        {"body": "y", "id": "dup"},
        {"body": "z", "id": "dedup", "deduplication_id": "d1"},
        {"body": "w", "id": "attrs", "attributes": {"count": 3}},
        {"body": "v", "id": "delay", "delay_seconds": "5"},
    ]

    with pytest.raises(producer.InvalidMessageError) as raised:
        producer.send_messages(sqs, QUEUE_URL, messages, sleep=no_sleep)

    assert raised.value.problems == [
        "message 'empty': 'body' must be a non-empty string or a JSON object, got str",
        "message 'dup': the id is already used by another message, and ids must be unique",
        "message 'dedup': 'deduplication_id' is only allowed on a FIFO queue",
        "message 'attrs': 'attributes' must map names to string values",
        "message 'delay': 'delay_seconds' must be an integer, got '5'",
    ]
    assert batch_calls == []


def test_producer_reports_sender_fault_entry(
    producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls
):
    queue = make_queue()
    messages = [
        {"body": "a", "id": "A"},
        {"body": "b", "id": "B", "delay_seconds": 1800},
        {"body": "c", "id": "C"},
    ]

    with pytest.raises(producer.SendFailedError) as raised:
        producer.send_messages(sqs, queue.url, messages, sleep=no_sleep)

    failures = raised.value.failures
    assert [failure.id for failure in failures] == ["B"]
    assert failures[0].code == "InvalidParameterValue"
    assert (
        failures[0].message
        == "Value 1800 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900."
    )
    assert failures[0].sender_fault is True
    assert sorted(raised.value.message_ids) == ["A", "C"]
    # Sender faults are not retried, so A and C went out in the one and only call.
    assert entry_sizes(batch_calls) == [3]
    assert count_messages(sqs, queue.url) == (2, 0)
    assert sorted(message["Body"] for message in receive_all(sqs, queue.url)) == ["a", "c"]


def stubbed_client() -> Any:
    return boto3.client("sqs", region_name=REGION)


def batch_response(successful: list[str], failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Successful": [
            {"Id": entry_id, "MessageId": f"id-{entry_id}", "MD5OfMessageBody": "0" * 32} for entry_id in successful
        ],
        "Failed": failed,
    }


INTERNAL_ERROR = {"Id": "1", "SenderFault": False, "Code": "InternalError", "Message": "try again"}
THREE_ENTRIES = [
    {"Id": "0", "MessageBody": "a"},
    {"Id": "1", "MessageBody": "b"},
    {"Id": "2", "MessageBody": "c"},
]


def test_producer_retries_only_failed_entry(producer: ModuleType):
    client = stubbed_client()
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        stubber.add_response(
            "send_message_batch",
            batch_response(["0", "2"], [INTERNAL_ERROR]),
            {"QueueUrl": QUEUE_URL, "Entries": THREE_ENTRIES},
        )
        stubber.add_response(
            "send_message_batch",
            batch_response(["1"], []),
            {"QueueUrl": QUEUE_URL, "Entries": [THREE_ENTRIES[1]]},
        )

        result = producer.send_messages(
            client, QUEUE_URL, [{"body": "a"}, {"body": "b"}, {"body": "c"}], sleep=sleeps.append
        )

        stubber.assert_no_pending_responses()
    assert result == {"sent": 3, "message_ids": ["id-0", "id-1", "id-2"]}
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= producer.BACKOFF_BASE_SECONDS


def test_producer_raises_after_max_attempts(producer: ModuleType):
    client = stubbed_client()
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        stubber.add_response("send_message_batch", batch_response(["0", "2"], [INTERNAL_ERROR]))
        stubber.add_response("send_message_batch", batch_response([], [INTERNAL_ERROR]))
        stubber.add_response("send_message_batch", batch_response([], [INTERNAL_ERROR]))

        with pytest.raises(producer.SendFailedError) as raised:
            producer.send_messages(
                client, QUEUE_URL, [{"body": "a"}, {"body": "b"}, {"body": "c"}], sleep=sleeps.append
            )

        stubber.assert_no_pending_responses()
    assert raised.value.failures == [producer.FailedEntry("1", "InternalError", "try again", sender_fault=False)]
    assert raised.value.message_ids == {"0": "id-0", "2": "id-2"}
    assert len(sleeps) == producer.MAX_SEND_ATTEMPTS - 1
    # Full jitter: each delay is at most the base doubled once per earlier retry.
    for retry, delay in enumerate(sleeps):
        assert 0 <= delay <= producer.BACKOFF_BASE_SECONDS * 2**retry


def test_producer_request_error_fails_batch(producer: ModuleType):
    client = stubbed_client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "send_message_batch", service_error_code="AccessDenied", service_message="denied", http_status_code=403
        )

        with pytest.raises(producer.SendFailedError) as raised:
            producer.send_messages(client, QUEUE_URL, [{"body": "a"}, {"body": "b"}], sleep=no_sleep)

    assert raised.value.failures == [
        producer.FailedEntry("0", "AccessDenied", "denied", sender_fault=True),
        producer.FailedEntry("1", "AccessDenied", "denied", sender_fault=True),
    ]
    assert raised.value.message_ids == {}


def test_producer_reports_unanswered_entry(producer: ModuleType):
    client = stubbed_client()
    with Stubber(client) as stubber:
        stubber.add_response("send_message_batch", batch_response(["0"], []))

        with pytest.raises(producer.SendFailedError) as raised:
            producer.send_messages(client, QUEUE_URL, [{"body": "a"}, {"body": "b"}], sleep=no_sleep)

    assert [failure.id for failure in raised.value.failures] == ["1"]
    assert raised.value.failures[0].code == "MissingFromResponse"


def test_producer_logs_retry_and_failure(producer: ModuleType, log_lines):
    log_lines(producer)
    client = stubbed_client()
    with Stubber(client) as stubber:
        for _ in range(producer.MAX_SEND_ATTEMPTS):
            stubber.add_response("send_message_batch", batch_response([], [{**INTERNAL_ERROR, "Id": "0"}]))

        with pytest.raises(producer.SendFailedError):
            producer.send_messages(client, QUEUE_URL, [{"body": "a", "id": "order-7"}], sleep=no_sleep)

    records = log_lines(producer)
    retries = [record for record in records if record["message"] == "Retrying messages"]
    failures = [record for record in records if record["message"] == "Message not accepted"]
    assert [record["attempt"] for record in retries] == [2, 3]
    assert all(record["ids"] == ["order-7"] for record in retries)
    assert len(failures) == 1
    assert failures[0]["id"] == "order-7"
    assert failures[0]["code"] == "InternalError"
    assert failures[0]["level"] == "ERROR"


def test_producer_fifo_sets_group_and_dedup(
    producer: ModuleType, sqs: Any, make_queue: Callable[..., Queue], batch_calls
):
    queue = make_queue(fifo=True)
    messages = [
        {"body": "first", "group_id": "g1"},
        {"body": "second", "group_id": "g1", "deduplication_id": "custom"},
    ]

    producer.send_messages(sqs, queue.url, messages, fifo=True, sleep=no_sleep)

    received = receive_all(sqs, queue.url)
    assert [message["Body"] for message in received] == ["first", "second"]
    assert [message["Attributes"]["MessageGroupId"] for message in received] == ["g1", "g1"]
    assert batch_calls[0][0]["MessageDeduplicationId"] == hashlib.sha256(b"first").hexdigest()
    assert batch_calls[0][1]["MessageDeduplicationId"] == "custom"


def test_producer_fifo_requires_group_id(producer: ModuleType, sqs: Any, batch_calls):
    messages = [{"body": "a", "id": "no-group"}, {"body": "b", "id": "delayed", "group_id": "g", "delay_seconds": 5}]

    with pytest.raises(producer.InvalidMessageError) as raised:
        producer.send_messages(sqs, QUEUE_URL, messages, fifo=True, sleep=no_sleep)

    assert raised.value.problems == [
        "message 'no-group': 'group_id' is required on a FIFO queue",
        "message 'delayed': 'delay_seconds' is not allowed on a FIFO queue. Set a delay on the queue instead",
    ]
    assert batch_calls == []


def test_handler_reads_environment(
    producer: ModuleType,
    sqs: Any,
    make_queue: Callable[..., Queue],
    lambda_context: FakeLambdaContext,
    monkeypatch: pytest.MonkeyPatch,
):
    queue = make_queue()
    monkeypatch.setenv("QUEUE_URL", queue.url)
    monkeypatch.setenv("QUEUE_FIFO", "false")
    monkeypatch.setenv("MAX_MESSAGE_SIZE_BYTES", "2048")
    event = {"messages": [{"body": {"order_id": "o-1"}, "attributes": {"kind": "order"}}]}

    result = producer.handler(event, lambda_context)

    assert result["sent"] == 1
    received = receive_all(sqs, queue.url)
    assert json.loads(received[0]["Body"]) == {"order_id": "o-1"}
    assert received[0]["MessageAttributes"]["kind"]["StringValue"] == "order"
    assert received[0]["MessageId"] == result["message_ids"][0]


def test_handler_rejects_event_without_messages(producer: ModuleType, lambda_context: FakeLambdaContext):
    with pytest.raises(producer.InvalidMessageError) as raised:
        producer.handler({"message": []}, lambda_context)

    assert raised.value.problems == ["the event needs a 'messages' list, got NoneType"]
