"""``sqs-kit redrive`` against SQS in moto, in process: dead letters made by the real redrive policy go back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sqs_kit.local.redrive import (
    Clock,
    QueuePair,
    RedriveError,
    RedriveOptions,
    copy_messages,
    deduplication_id,
    queue_pair,
    redrive,
    redrive_policy_statements,
    resolve_endpoint,
)
from sqs_kit.local.server import LocalServerError
from sqs_kit.local.state import StateFileError, clear_state, read_state, state_path, write_state

from .conftest import Queue, count_messages, receive_all

MAX_RECEIVE_COUNT = 2
MESSAGE_COUNT = 25


class InjectedCrashError(RuntimeError):
    """Stands for the process dying at a chosen call."""


class CrashingClient:
    """An SQS client that raises on the ``crash_on``-th call of ``operation`` and passes everything else through."""

    def __init__(self, client: Any, operation: str, crash_on: int) -> None:
        self._client = client
        self._operation = operation
        self._crash_on = crash_on
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name != self._operation:
            return attribute

        def call(**kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self._crash_on:
                raise InjectedCrashError(f"{name} call {self.calls}")
            return attribute(**kwargs)

        return call


class FakeClock:
    """A clock that only advances when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(params=[False, True], ids=["standard", "fifo"])
def fifo(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def queues(make_queue: Callable[..., Queue], fifo: bool) -> tuple[Queue, Queue]:
    """Return a source queue and its DLQ, linked both ways as KitQueue links them."""
    dlq = make_queue(fifo=fifo)
    redrive_policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    source = make_queue(fifo=fifo, RedrivePolicy=json.dumps(redrive_policy))
    return source, dlq


@pytest.fixture
def pair(sqs: Any, queues: tuple[Queue, Queue]) -> QueuePair:
    return queue_pair(sqs, source_url=queues[0].url, dlq_url=None)


def fill_dead_letter_queue(sqs: Any, source: Queue, *, fifo: bool, count: int = MESSAGE_COUNT) -> dict[str, str]:
    """Send ``count`` messages and receive them until the redrive policy moves them; return body by message id."""
    sent: dict[str, str] = {}
    for index in range(count):
        request: dict[str, Any] = {
            "QueueUrl": source.url,
            "MessageBody": f"order-{index}",
            "MessageAttributes": {"tenant": {"DataType": "String", "StringValue": f"t{index % 3}"}},
        }
        if fifo:
            request["MessageGroupId"] = f"group-{index % 4}"
            request["MessageDeduplicationId"] = f"dedup-{index}"
        sent[sqs.send_message(**request)["MessageId"]] = f"order-{index}"
    # Each pass receives every message once; after MAX_RECEIVE_COUNT passes the next receive moves them to the DLQ.
    for _ in range(MAX_RECEIVE_COUNT + 1):
        receive_all(sqs, source.url, visibility_timeout_seconds=0)
    assert count_messages(sqs, source.url) == (0, 0)
    return sent


def bodies_in(sqs: Any, url: str) -> list[str]:
    """Return the bodies of every message in the queue, deleting them (a FIFO group hides the rest until then)."""
    return [message["Body"] for message in consume(sqs, url)]


def consume(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete one batch at a time, in delivery order, with every attribute."""
    messages: list[dict[str, Any]] = []
    for _ in range(100):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_redrive_standard_and_fifo_moves_every_message_once(
    sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool
) -> None:
    source, dlq = queues
    sent = fill_dead_letter_queue(sqs, source, fifo=fifo)
    assert count_messages(sqs, dlq.url)[0] == MESSAGE_COUNT

    summary = redrive(sqs, pair, RedriveOptions(), local=True)

    assert summary.mode == "receive-send-delete"
    assert (summary.moved, summary.failed, summary.remaining, summary.undeleted) == (MESSAGE_COUNT, 0, 0, 0)
    assert Counter(bodies_in(sqs, source.url)) == Counter(sent.values())
    assert count_messages(sqs, dlq.url) == (0, 0)


def test_redrive_keeps_attributes_and_group_ids(
    sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool
) -> None:
    source, _ = queues
    sent = fill_dead_letter_queue(sqs, source, fifo=fifo, count=8)
    # A message keeps its id when the redrive policy moves it to the DLQ.
    dead = {body: message_id for message_id, body in sent.items()}

    copy_messages(sqs, pair)

    back = {message["Body"]: message for message in consume(sqs, source.url)}
    for index in range(8):
        message = back[f"order-{index}"]
        assert message["MessageAttributes"]["tenant"]["StringValue"] == f"t{index % 3}"
        if fifo:
            assert message["Attributes"]["MessageGroupId"] == f"group-{index % 4}"
            # The original id was sent moments ago, so SQS would drop a copy that reused it.
            assert message["Attributes"]["MessageDeduplicationId"] == f"redrive-{dead[f'order-{index}']}"


def test_redrive_fifo_keeps_order_within_group(sqs: Any, make_queue: Callable[..., Queue]) -> None:
    dlq = make_queue(fifo=True)
    redrive_policy = {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "5"}
    source = make_queue(fifo=True, RedrivePolicy=json.dumps(redrive_policy))
    # Sent to the DLQ directly, because moto's order of dead letters moved by the policy is its own.
    for index in range(12):
        sqs.send_message(
            QueueUrl=dlq.url, MessageBody=str(index), MessageGroupId="g", MessageDeduplicationId=str(index)
        )

    copy_messages(sqs, queue_pair(sqs, source_url=source.url, dlq_url=dlq.url))

    assert bodies_in(sqs, source.url) == [str(index) for index in range(12)]


def test_dry_run_changes_nothing(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool) -> None:
    source, dlq = queues
    sent = fill_dead_letter_queue(sqs, source, fifo=fifo, count=12)

    summary = redrive(sqs, pair, RedriveOptions(dry_run=True), local=True)

    assert summary.mode == "dry run"
    assert summary.moved == 12
    assert summary.remaining == 12
    assert 1 <= len(summary.sample) <= 10
    assert count_messages(sqs, source.url) == (0, 0)
    assert Counter(bodies_in(sqs, dlq.url)) == Counter(sent.values())


def test_dry_run_caps_count_at_max_messages(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool) -> None:
    fill_dead_letter_queue(sqs, queues[0], fifo=fifo, count=12)

    summary = redrive(sqs, pair, RedriveOptions(dry_run=True, max_messages=5), local=True)

    assert summary.moved == 5
    assert summary.remaining == 12


def test_max_messages_moves_only_that_many(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool) -> None:
    source, dlq = queues
    fill_dead_letter_queue(sqs, source, fifo=fifo, count=15)

    summary = redrive(sqs, pair, RedriveOptions(max_messages=7), local=True)

    assert summary.moved == 7
    assert summary.remaining == 8
    assert count_messages(sqs, source.url)[0] == 7
    assert count_messages(sqs, dlq.url)[0] == 8


def test_interrupted_before_send_loses_nothing(
    sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool
) -> None:
    source, dlq = queues
    sent = fill_dead_letter_queue(sqs, source, fifo=fifo)
    crashing = CrashingClient(sqs, "send_message_batch", crash_on=2)

    with pytest.raises(InjectedCrashError):
        copy_messages(crashing, pair, visibility_timeout_seconds=0)
    rerun = copy_messages(sqs, pair)

    assert rerun.moved == MESSAGE_COUNT - 10
    assert Counter(bodies_in(sqs, source.url)) == Counter(sent.values())
    assert count_messages(sqs, dlq.url) == (0, 0)


def test_interrupted_after_send_duplicates_one_batch_at_most(
    sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair, fifo: bool
) -> None:
    source, dlq = queues
    sent = fill_dead_letter_queue(sqs, source, fifo=fifo)
    # The second batch is sent and the process dies before its delete: the documented duplicate window.
    crashing = CrashingClient(sqs, "delete_message_batch", crash_on=2)

    with pytest.raises(InjectedCrashError):
        copy_messages(crashing, pair, visibility_timeout_seconds=0)
    rerun = copy_messages(sqs, pair)

    back = Counter(bodies_in(sqs, source.url))
    duplicated = {body: count for body, count in back.items() if count > 1}
    assert set(back) == set(sent.values())
    assert rerun.moved == MESSAGE_COUNT - 10
    if fifo:
        # Same deduplication id within 5 minutes: SQS accepts the resend and drops it.
        assert duplicated == {}
    else:
        assert len(duplicated) == 10
        assert set(duplicated.values()) == {2}
    assert count_messages(sqs, dlq.url) == (0, 0)


def test_rejected_copy_stays_in_dead_letter_queue(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair) -> None:
    source, dlq = queues
    fill_dead_letter_queue(sqs, source, fifo=pair.fifo, count=5)
    original = sqs.send_message_batch

    def reject_first(**kwargs: Any) -> dict[str, Any]:
        first, *rest = kwargs["Entries"]
        response: dict[str, Any] = original(**{**kwargs, "Entries": rest}) if rest else {"Successful": []}
        response["Failed"] = [{"Id": first["Id"], "Code": "InternalError", "SenderFault": False, "Message": "test"}]
        return response

    sqs.send_message_batch = reject_first

    summary = copy_messages(sqs, pair)

    # Only the first message of each batch was rejected, and that message was not retried in the run.
    assert summary.failed == 1
    assert summary.moved == 4
    assert count_messages(sqs, source.url)[0] == 4
    assert sum(count_messages(sqs, dlq.url)) == 1


def test_rate_limit_spreads_sends(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair) -> None:
    fill_dead_letter_queue(sqs, queues[0], fifo=pair.fifo, count=12)
    clock = FakeClock()

    summary = copy_messages(sqs, pair, rate=4, clock=Clock(monotonic=clock.monotonic, sleep=clock.sleep))

    assert summary.moved == 12
    # 4 per second in batches of 4: the batches start at 0 s, 1 s and 2 s, and the final empty receive at 3 s.
    assert clock.sleeps == [1.0, 1.0, 1.0]
    assert clock.now == pytest.approx(3.0)


def test_move_task_unsupported_falls_back(sqs: Any, queues: tuple[Queue, Queue], pair: QueuePair) -> None:
    fill_dead_letter_queue(sqs, queues[0], fifo=pair.fifo, count=3)

    summary = redrive(sqs, pair, RedriveOptions(rate=100), local=False)

    assert summary.mode == "receive-send-delete"
    assert summary.moved == 3


def test_queue_pair_from_dead_letter_queue_allow_policy(sqs: Any, make_queue: Callable[..., Queue]) -> None:
    dlq = make_queue()
    source = make_queue(RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": "3"}))
    allow = {"redrivePermission": "byQueue", "sourceQueueArns": [source.arn]}
    original = sqs.get_queue_attributes

    # moto 5.2.5 neither stores nor returns RedriveAllowPolicy, so it is added to the DLQ's response here.
    def with_allow_policy(**kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = original(**kwargs)
        if kwargs["QueueUrl"] == dlq.url:
            response["Attributes"]["RedriveAllowPolicy"] = json.dumps(allow)
        return response

    sqs.get_queue_attributes = with_allow_policy

    pair = queue_pair(sqs, source_url=None, dlq_url=dlq.url)

    assert (pair.source_url, pair.source_arn, pair.dlq_arn) == (source.url, source.arn, dlq.arn)


def test_deduplication_id_kept_when_original_send_is_old() -> None:
    message = {"MessageId": "m-1", "Attributes": {"MessageDeduplicationId": "order-7", "SentTimestamp": "1000"}}

    assert deduplication_id(message, now_ms=1000 + 6 * 60 * 1000 + 1) == "order-7"
    assert deduplication_id(message, now_ms=1000 + 4 * 60 * 1000) == "redrive-m-1"


def test_policy_statements_least_privilege() -> None:
    statements = redrive_policy_statements("arn:source", "arn:dlq", key_arn="arn:key")

    by_resource = {statement["Resource"]: set(statement["Action"]) for statement in statements}
    assert by_resource == {
        "arn:dlq": {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
            "sqs:StartMessageMoveTask",
            "sqs:ListMessageMoveTasks",
            "sqs:CancelMessageMoveTask",
        },
        "arn:source": {"sqs:SendMessage", "sqs:GetQueueAttributes"},
        "arn:key": {"kms:Decrypt", "kms:GenerateDataKey"},
    }
    assert all(statement["Effect"] == "Allow" for statement in statements)


def test_policy_statements_without_key_have_no_kms() -> None:
    statements = redrive_policy_statements("arn:source", "arn:dlq")

    assert [statement["Resource"] for statement in statements] == ["arn:dlq", "arn:source"]


def test_endpoint_from_state_file(tmp_path: Path) -> None:
    write_state(tmp_path, endpoint_url="http://localhost:5123", pid=os.getpid(), stacks=["sqs-kit-dev"])

    assert resolve_endpoint(None, tmp_path) == "http://localhost:5123"
    assert read_state(tmp_path).stacks == ["sqs-kit-dev"]


def test_endpoint_option_wins_over_state_file(tmp_path: Path) -> None:
    write_state(tmp_path, endpoint_url="http://localhost:5123", pid=os.getpid(), stacks=[])

    assert resolve_endpoint("http://127.0.0.1:6000", tmp_path) == "http://127.0.0.1:6000"


def test_endpoint_without_state_file_is_aws(tmp_path: Path) -> None:
    assert resolve_endpoint(None, tmp_path) is None


def test_endpoint_option_rejects_remote_host(tmp_path: Path) -> None:
    with pytest.raises(LocalServerError, match="only talks to http://localhost:PORT"):
        resolve_endpoint("https://sqs.us-east-1.amazonaws.com", tmp_path)


def test_state_file_of_stopped_server_is_stale(tmp_path: Path) -> None:
    stopped = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True
    )
    write_state(tmp_path, endpoint_url="http://localhost:5123", pid=int(stopped.stdout), stacks=[])

    with pytest.raises(StateFileError, match=r"Stale local server state file .* is not running"):
        resolve_endpoint(None, tmp_path)


def test_state_file_with_remote_endpoint_rejected(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.parent.mkdir()
    path.write_text(
        json.dumps({"endpoint_url": "http://10.0.0.5:5000", "pid": os.getpid(), "stacks": [], "written_at": "x"})
    )

    with pytest.raises(StateFileError, match="Invalid endpoint in"):
        read_state(tmp_path)


def test_state_file_cleared(tmp_path: Path) -> None:
    write_state(tmp_path, endpoint_url="http://localhost:5123", pid=os.getpid(), stacks=[])

    clear_state(tmp_path)

    assert not state_path(tmp_path).exists()
    with pytest.raises(StateFileError, match="No local server state file"):
        read_state(tmp_path)


class FakeMoveTaskClient:
    """An SQS client for the move task path, shaped like AWS's responses.

    The task runs for two polls, then ends with ``final``.
    """

    def __init__(self, final: str = "COMPLETED") -> None:
        self.started: list[dict[str, Any]] = []
        self._statuses = ["RUNNING", "RUNNING", final]

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"TaskHandle": "handle-1"}

    def list_message_move_tasks(self, **kwargs: Any) -> dict[str, Any]:
        status = self._statuses.pop(0)
        moved = 30 if status == "COMPLETED" else 10
        return {
            "Results": [
                {"Status": status, "ApproximateNumberOfMessagesMoved": moved, "ApproximateNumberOfMessagesToMove": 30}
            ]
        }

    def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
        return {"Attributes": {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}}


FAKE_PAIR = QueuePair(
    source_url="https://sqs.example/source",
    source_arn="arn:source",
    dlq_url="https://sqs.example/dlq",
    dlq_arn="arn:dlq",
    fifo=False,
)


def test_move_task_started_with_rate_and_polled() -> None:
    client = FakeMoveTaskClient()
    clock = FakeClock()

    summary = redrive(
        client, FAKE_PAIR, RedriveOptions(rate=50), local=False, clock=Clock(clock.monotonic, clock.sleep)
    )

    assert client.started == [
        {"SourceArn": "arn:dlq", "DestinationArn": "arn:source", "MaxNumberOfMessagesPerSecond": 50}
    ]
    assert summary.mode == "StartMessageMoveTask (COMPLETED)"
    assert (summary.moved, summary.failed, summary.remaining) == (30, 0, 0)
    assert clock.sleeps == [5.0, 5.0]


def test_move_task_failure_counts_unmoved() -> None:
    clock = FakeClock()

    summary = redrive(
        FakeMoveTaskClient(final="FAILED"),
        FAKE_PAIR,
        RedriveOptions(),
        local=False,
        clock=Clock(clock.monotonic, clock.sleep),
    )

    assert summary.failed == 20


def test_server_error_from_aws_is_not_fallback() -> None:
    client = FakeMoveTaskClient()
    error = ClientError({"Error": {"Code": "500"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "StartMessageMoveTask")

    def fail(**kwargs: Any) -> dict[str, Any]:
        raise error

    client.start_message_move_task = fail

    with pytest.raises(RedriveError, match="StartMessageMoveTask from arn:dlq failed: HTTP 500"):
        redrive(client, FAKE_PAIR, RedriveOptions(), local=False)
