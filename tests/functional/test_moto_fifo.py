"""moto's FIFO group order and its races, with and without the local server's corrections."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import moto.sqs.models as sqs_models
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

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


def backend_queue(url: str) -> Any:
    """Return moto's in-process model of the queue at ``url``."""
    return sqs_models.sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_queue(url.rsplit("/", 1)[-1])


def test_correction_keeps_group_order(fifo_queue: tuple[Any, str], corrected: None) -> None:
    assert receive_after_timeout(*fifo_queue) == ["m0", "m1", "m2"]


def test_attribute_read_keeps_message_in_flight(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    queue = backend_queue(url)
    first = queue._messages[0]
    # The state between the two steps of moto's receive: in flight, but not yet invisible.
    queue.pending_messages.add(first)
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert first in queue.pending_messages
    first.mark_received(visibility_timeout=VISIBILITY_TIMEOUT_SECONDS)
    # m0 is in flight, so no message of its group may be returned.
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


def run_while_locked(queue: Any, call: Any, **kwargs: Any) -> None:
    """Start ``call(**kwargs)`` on a thread while holding the queue's message lock, then let it finish."""
    thread = threading.Thread(target=call, kwargs=kwargs)
    with queue._messages_lock:
        thread.start()
        thread.join(timeout=0.3)
        # A send appends under this lock, so a list change that ran now could drop the sent message.
        assert thread.is_alive()
        assert [message.body for message in queue._messages] == ["m0", "m1", "m2"]
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_delete_waits_for_message_lock(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    queue = backend_queue(url)
    handle = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]["ReceiptHandle"]
    run_while_locked(queue, sqs.delete_message, QueueUrl=url, ReceiptHandle=handle)
    assert [message.body for message in queue._messages] == ["m1", "m2"]


def test_receive_waits_for_message_lock(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    queue = backend_queue(url)
    run_while_locked(queue, sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=10)
    # All three were received once, after the lock was released.
    assert [message.approximate_receive_count for message in queue._messages] == [1, 1, 1]


def test_visibility_change_waits_for_message_lock(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    queue = backend_queue(url)
    handle = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)["Messages"][0]["ReceiptHandle"]
    run_while_locked(queue, sqs.change_message_visibility, QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    assert queue._messages[0].visible


def test_purge_waits_for_message_lock(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    queue = backend_queue(url)
    run_while_locked(queue, sqs.purge_queue, QueueUrl=url)
    assert queue._messages == []


def test_long_poll_on_blocked_group_waits_idle(fifo_queue: tuple[Any, str], corrected: None) -> None:
    sqs, url = fifo_queue
    # m0 in flight keeps m1 and m2, both visible, out of every receive.
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    started_cpu, started = time.thread_time(), time.monotonic()
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    cpu, elapsed = time.thread_time() - started_cpu, time.monotonic() - started
    assert messages == []
    assert elapsed >= 1.9
    # moto's own wait returns at once while a visible message exists, so its poll spins for the whole 2 s.
    assert cpu < 0.5
