"""Run deployed function code against the local queues: send through each producer, drain through each consumer.

moto stores functions but does not run them without Docker, so this module
downloads each function's zip from the CDK asset bucket and runs its handler.
Each function runs in a worker process of its own (``HandlerWorker``):

- both kit functions name their module ``handler``, which one interpreter
  would import once and then return from ``sys.modules`` for the other;
- the zip bundles its own ``aws_lambda_powertools``, which must win over the
  copy this virtual environment has already imported;
- handlers read ``QUEUE_URL`` and ``POWERTOOLS_*`` at import time, and a
  process gets exactly the function's environment without touching this one's;
- a long-lived worker behaves like a warm execution environment: the import
  is paid once and module-level state survives between invocations.

The worker is ``worker.py`` run as a script (``python -I worker.py CODE_DIR
HANDLER``), which imports only the standard library before the handler. Clients
and the local AWS environment are passed in by the caller.

The consumer loop here (``drain_queue``) is the minimal event source that
``sqs-kit local`` uses: receive up to the mapping's batch size, invoke, delete
what succeeded, make failures visible at once. ``eventsource.py`` has the
Lambda-like one that ``sqs-kit drill`` uses: batching window, concurrency,
timeouts and time-compressed visibility timeouts.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import queue
import re
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from .report import FunctionInfo, MappingInfo, QueueInfo, StackInventory

logger = logging.getLogger(__name__)

# SendMessageBatch, DeleteMessageBatch and ReceiveMessage each take at most 10 messages.
SQS_BATCH_LIMIT = 10
# Short enough that an empty queue ends the drain within a second, long enough not to spin.
POLL_WAIT_SECONDS = 1
# Bounds the drain when a message can never succeed and the queue has no dead-letter queue.
DRAIN_TIMEOUT_SECONDS = 120.0
# Seconds the DLQ count hides each message while counting, so no message is counted twice.
COUNT_VISIBILITY_SECONDS = 30
FIFO_SUFFIX = ".fifo"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
# Added to the function timeout before the worker is declared hung: process start and JSON transfer.
WORKER_TIMEOUT_MARGIN_SECONDS = 5.0


WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")
FIFO_ENVIRONMENT_VARIABLE = "QUEUE_FIFO"
# Message groups the runner spreads FIFO messages over, so groups interleave as in a real workload.
FIFO_GROUP_COUNT = 10


class RunnerError(RuntimeError):
    """Function code could not be fetched or a worker could not run."""


@dataclass
class RunSummary:
    """Message ids sent, processed and dead-lettered in one run, and what went wrong."""

    sent_ids: set[str] = field(default_factory=set)
    processed_ids: set[str] = field(default_factory=set)
    dead_letter_ids: set[str] = field(default_factory=set)
    failed_records: int = 0
    failed_invocations: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def lost_ids(self) -> set[str]:
        """Ids sent but neither processed nor in a dead-letter queue."""
        return self.sent_ids - self.processed_ids - self.dead_letter_ids


@dataclass(frozen=True)
class Invocation:
    """One handler call: its response, or the error type and message it raised."""

    response: Any = None
    error: str | None = None
    # AWS requests the call made, by "Service.Operation", as the worker counted them.
    requests: Mapping[str, int] = field(default_factory=dict)
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


# Parent side: fetching code and running workers


def download_code(s3: Any, function: FunctionInfo, work_dir: Path) -> Path:
    """Download a function's code zip from its asset bucket, extract it and return the folder."""
    if not function.code_bucket or not function.code_key:
        # TODO: inline code (ZipFile) and code from template parameters are not supported yet.
        raise RunnerError(
            f"Function {function.logical_id} has no S3Bucket/S3Key in the deployed template, so its code "
            "cannot be fetched. Deploy it with Code.from_asset."
        )
    buffer = io.BytesIO()
    try:
        s3.download_fileobj(function.code_bucket, function.code_key, buffer)
    except Exception as error:
        raise RunnerError(
            f"Could not download the code of {function.logical_id} from s3://{function.code_bucket}/"
            f"{function.code_key}: {error}. Did `cdk deploy` publish its assets to this server?"
        ) from error
    target = work_dir / function.logical_id
    with zipfile.ZipFile(buffer) as archive:
        # zipfile drops absolute paths and ".." from member names, so nothing lands outside target.
        archive.extractall(target)
    return target


def worker_environment(function: FunctionInfo, code_dir: Path, aws_environment: Mapping[str, str]) -> dict[str, str]:
    """Return a Lambda-like environment: the function's variables, then the local AWS settings on top.

    The local settings are applied last, so a function variable can never point
    a worker at another endpoint or at real credentials.
    """
    lambda_variables = {
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "_HANDLER": function.handler,
        "TZ": ":UTC",
    }
    return {**aws_environment, **function.environment, **lambda_variables, **_aws_only(aws_environment)}


def _aws_only(environment: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in environment.items() if name.startswith("AWS_")}


class HandlerWorker:
    """A process that imports one function's handler and serves invocations over stdin and stdout."""

    def __init__(
        self,
        function: FunctionInfo,
        code_dir: Path,
        aws_environment: Mapping[str, str],
        *,
        timeout_seconds: float | None = None,
        extra_environment: Mapping[str, str] | None = None,
    ) -> None:
        self.function = function
        self.code_dir = code_dir
        # A drill scales the timeout down with the visibility timeout; see eventsource.py.
        self.timeout_seconds = float(function.timeout_seconds if timeout_seconds is None else timeout_seconds)
        self.environment = {
            **worker_environment(function, code_dir, aws_environment),
            **(extra_environment or {}),
            **_aws_only(aws_environment),
        }
        self._process: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()

    def start(self) -> None:
        """Start the worker process, which imports the handler module before it reads the first request."""
        # -I: no PYTHONPATH, user site or script folder on sys.path, so only the zip and the venv are importable.
        command = [sys.executable, "-I", str(WORKER_SCRIPT), str(self.code_dir), self.function.handler]
        self._process = subprocess.Popen(
            command,
            cwd=self.code_dir,
            env=self.environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self._process.stdout,), daemon=True).start()
        threading.Thread(target=self._log_output, args=(self._process.stderr,), daemon=True).start()

    def _read_replies(self, stream: TextIO) -> None:
        for line in stream:
            self._replies.put(line)
        self._replies.put(None)

    def _log_output(self, stream: TextIO) -> None:
        for line in stream:
            logger.debug("%s: %s", self.function.logical_id, line.rstrip())

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        """Call the handler with ``event``. A timeout or crash returns an error, and the worker restarts next call."""
        if self._process is None or self._process.poll() is not None:
            self.start()
        assert self._process is not None and self._process.stdin is not None
        request_id = str(uuid.uuid4())
        context = {
            "function_name": self.function.name,
            "invoked_function_arn": self.function.arn,
            "memory_limit_in_mb": self.function.memory_mb,
            "aws_request_id": request_id,
            "timeout_seconds": self.timeout_seconds,
        }
        self._process.stdin.write(json.dumps({"event": event, "context": context}) + "\n")
        self._process.stdin.flush()
        try:
            line = self._replies.get(timeout=self.timeout_seconds + self.timeout_margin_seconds)
        except queue.Empty:
            # Lambda stops the runtime at the timeout; a worker left running could still delete or send.
            self.kill()
            return Invocation(
                error=f"Task timed out after {self.timeout_seconds:g} s (request {request_id})", timed_out=True
            )
        if line is None:
            code = self._process.wait()
            self._process = None
            return Invocation(error=f"Runtime.ExitError: the worker exited with code {code} (request {request_id})")
        reply = json.loads(line)
        requests = reply.get("requests", {})
        if reply.get("ok"):
            return Invocation(response=reply.get("response"), requests=requests)
        return Invocation(error=f"{reply.get('errorType')}: {reply.get('errorMessage')}", requests=requests)

    # The transfer of the event and reply is not the handler's time; a drill shrinks this with the timeout.
    timeout_margin_seconds = WORKER_TIMEOUT_MARGIN_SECONDS

    def kill(self) -> None:
        """Kill the worker at once; the next call starts a fresh one, as after a Lambda timeout."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the worker: close its stdin, then kill it if it does not exit."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> HandlerWorker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


# Producing


def message_id_pattern(run_id: str) -> re.Pattern[str]:
    """Return the pattern of the ids this run puts in message bodies."""
    return re.compile(rf"local-{re.escape(run_id)}-\d+\b")


def is_fifo_producer(function: FunctionInfo) -> bool:
    """Return whether the producer sends to a FIFO queue, from its ``QUEUE_FIFO`` variable."""
    return function.environment.get(FIFO_ENVIRONMENT_VARIABLE, "false").lower() == "true"


def group_id(message_id: str) -> str:
    """Return the FIFO message group of a run id: its number modulo ``FIFO_GROUP_COUNT``."""
    return f"group-{int(message_id.rsplit('-', 1)[-1]) % FIFO_GROUP_COUNT}"


def producer_message(function: FunctionInfo, message_id: str, body: Any = None) -> dict[str, Any]:
    """Return the producer event entry for ``message_id``; FIFO producers get a message group."""
    message: dict[str, Any] = {"id": message_id, "body": body if body is not None else {"order_id": message_id}}
    if is_fifo_producer(function):
        message["group_id"] = group_id(message_id)
    return message


def send_messages(producer: HandlerWorker, ids: Sequence[str], summary: RunSummary) -> None:
    """Hand ``ids`` to the producer as ``{"order_id": ID}`` bodies, at most one SQS batch per invocation.

    Every id handed over counts as sent, even when the invocation fails, so a
    producer that drops messages shows up as lost.
    """
    for start in range(0, len(ids), SQS_BATCH_LIMIT):
        chunk = ids[start : start + SQS_BATCH_LIMIT]
        event = {"messages": [producer_message(producer.function, message_id) for message_id in chunk]}
        summary.sent_ids.update(chunk)
        invocation = producer.invoke(event)
        if not invocation.ok:
            summary.failed_invocations += 1
            logger.error("Producer %s failed for ids %s: %s", producer.function.logical_id, chunk, invocation.error)


# Consuming


def receive_batch(sqs: Any, queue_url: str, batch_size: int) -> list[dict[str, Any]]:
    """Receive up to ``batch_size`` messages, in receives of at most 10, stopping at a short receive."""
    messages: list[dict[str, Any]] = []
    while len(messages) < batch_size:
        requested = min(SQS_BATCH_LIMIT, batch_size - len(messages))
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=requested,
            WaitTimeSeconds=POLL_WAIT_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        messages += received
        if len(received) < requested:
            break
    return messages


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """Return the record Lambda's SQS event source builds for one received message."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda uses camelCase keys and base64 text where SQS's API returns bytes.
    attribute: dict[str, Any] = {
        "dataType": value.get("DataType", "String"),
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return attribute


def failed_message_ids(invocation: Invocation, message_ids: Sequence[str], *, partial: bool) -> set[str]:
    """Return the ids of the batch that failed, as Lambda reads the handler's result.

    An error fails the whole batch. With ``ReportBatchItemFailures`` (``partial``),
    an empty or missing ``batchItemFailures`` means success, and a response
    Lambda cannot read (a failure whose ``itemIdentifier`` is missing or not in
    the batch) fails the whole batch too.
    """
    if not invocation.ok:
        return set(message_ids)
    if not partial or invocation.response in (None, "", {}):
        return set()
    response = invocation.response
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    identifiers = [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
    if any(identifier not in message_ids for identifier in identifiers):
        logger.warning("Invalid batchItemFailures %r: failing the whole batch, as Lambda does", failures)
        return set(message_ids)
    return {str(identifier) for identifier in identifiers}


def settle_batch(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]], failed: set[str]) -> None:
    """Delete the messages that succeeded and make the failed ones visible again at once.

    NOTE: time compression. Lambda leaves a failed message invisible for the
    queue's visibility timeout, but here it returns at once. A message that
    keeps failing so reaches the dead-letter queue after maxReceiveCount
    receives without waiting.
    """
    succeeded = [message for message in messages if message["MessageId"] not in failed]
    for chunk in _chunks(succeeded):
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)]
        _check_batch_result(sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries), "DeleteMessageBatch")
    make_visible(sqs, queue_url, [message for message in messages if message["MessageId"] in failed])


def make_visible(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Set the visibility timeout of received ``messages`` to 0, so the next receive can return them."""
    for chunk in _chunks(messages):
        entries = [
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for index, m in enumerate(chunk)
        ]
        result = sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=entries)
        _check_batch_result(result, "ChangeMessageVisibilityBatch")


def _chunks(messages: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    for start in range(0, len(messages), SQS_BATCH_LIMIT):
        yield messages[start : start + SQS_BATCH_LIMIT]


def _check_batch_result(result: Mapping[str, Any], operation: str) -> None:
    for failure in result.get("Failed", []):
        logger.error("%s failed for entry %s: %s", operation, failure.get("Id"), failure.get("Message"))


def queue_is_empty(sqs: Any, queue_url: str) -> bool:
    """Return whether the queue has no visible, in-flight or delayed message."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return all(int(attributes.get(name, 0)) == 0 for name in names)


def drain_queue(
    consumer: HandlerWorker,
    mapping: MappingInfo,
    source: QueueInfo,
    *,
    sqs: Any,
    summary: RunSummary,
    pattern: re.Pattern[str],
) -> None:
    """Act as the event source of ``mapping`` until its queue is empty or ``DRAIN_TIMEOUT_SECONDS`` pass."""
    region = source.arn.split(":")[3]
    partial = REPORT_BATCH_ITEM_FAILURES in mapping.function_response_types
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        messages = receive_batch(sqs, source.url, mapping.batch_size)
        if not messages:
            if queue_is_empty(sqs, source.url):
                return
            continue
        message_ids = [message["MessageId"] for message in messages]
        invocation = consumer.invoke({"Records": [sqs_record(m, source.arn, region) for m in messages]})
        if not invocation.ok:
            summary.failed_invocations += 1
            logger.warning(
                "Consumer %s failed a batch of %d: %s", consumer.function.logical_id, len(messages), invocation.error
            )
        failed = failed_message_ids(invocation, message_ids, partial=partial)
        summary.failed_records += len(failed)
        settle_batch(sqs, source.url, messages, failed)
        for message in messages:
            if message["MessageId"] not in failed:
                summary.processed_ids.update(pattern.findall(message.get("Body", "")))
    summary.notes.append(f"stopped draining {source.logical_id} after {DRAIN_TIMEOUT_SECONDS:.0f} s with messages left")


def count_dead_letters(sqs: Any, dead_letter_queue: QueueInfo, pattern: re.Pattern[str]) -> set[str]:
    """Return this run's ids found in a dead-letter queue, leaving every message there and visible.

    A FIFO queue returns no message of a group while an earlier one is in
    flight, so reading past the head of each group means taking the messages
    out. For a FIFO queue the messages are therefore received and deleted,
    then sent back in the order received, with the same group ids and new
    deduplication ids. They keep their bodies and attributes but get new
    message ids and receive counts.
    """
    fifo = dead_letter_queue.url.endswith(FIFO_SUFFIX)
    seen: list[Mapping[str, Any]] = []
    while True:
        received = sqs.receive_message(
            QueueUrl=dead_letter_queue.url,
            MaxNumberOfMessages=SQS_BATCH_LIMIT,
            VisibilityTimeout=COUNT_VISIBILITY_SECONDS,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        seen += received
        if fifo:
            _delete_received(sqs, dead_letter_queue.url, received)
    if fifo:
        _send_back(sqs, dead_letter_queue.url, seen)
    else:
        make_visible(sqs, dead_letter_queue.url, seen)
    return {found for message in seen for found in pattern.findall(message.get("Body", ""))}


def _delete_received(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    for chunk in _chunks(messages):
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)]
        _check_batch_result(sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries), "DeleteMessageBatch")


def _send_back(sqs: Any, queue_url: str, messages: Sequence[Mapping[str, Any]]) -> None:
    """Send received FIFO messages back in order, each under its own group and a new deduplication id."""
    for chunk in _chunks(messages):
        entries = []
        for index, message in enumerate(chunk):
            entry: dict[str, Any] = {
                "Id": str(index),
                "MessageBody": message["Body"],
                "MessageGroupId": message["Attributes"]["MessageGroupId"],
                "MessageDeduplicationId": f"recount-{message['MessageId']}",
            }
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if failed:
            lost = [chunk[int(failure["Id"])]["Body"] for failure in failed]
            raise RunnerError(f"Sending dead-lettered messages back to {queue_url} failed; their bodies: {lost}")


# The whole run


@dataclass(frozen=True)
class Roles:
    """The functions of the deployed stacks by role, and the queues their mappings read."""

    producers: list[FunctionInfo]
    consumers: list[tuple[FunctionInfo, MappingInfo, QueueInfo]]
    dead_letter_queues: list[QueueInfo]


def find_roles(inventories: Sequence[StackInventory], stand_ins: Sequence[QueueInfo] = ()) -> Roles:
    """Sort functions into producers (``QUEUE_URL`` set, no mapping) and consumers (an SQS mapping).

    ``stand_ins`` are local queues for imported ones (see ``standins.py``), so
    their consumers are drained too.
    """
    producers: list[FunctionInfo] = []
    consumers: list[tuple[FunctionInfo, MappingInfo, QueueInfo]] = []
    dead_letter_queues: list[QueueInfo] = []
    for inventory in inventories:
        mapped = {mapping.function_arn for mapping in inventory.mappings}
        producers += [f for f in inventory.functions if "QUEUE_URL" in f.environment and f.arn not in mapped]
        for mapping in inventory.mappings:
            function = inventory.function_by_arn(mapping.function_arn)
            source = inventory.queue_by_arn(mapping.event_source_arn) or next(
                (queue for queue in stand_ins if queue.arn == mapping.event_source_arn), None
            )
            if function is not None and source is not None:
                consumers.append((function, mapping, source))
        for source in inventory.queues:
            redrive = source.redrive_policy
            target = inventory.queue_by_arn(redrive.get("deadLetterTargetArn", "")) if redrive else None
            if target is not None and target not in dead_letter_queues:
                dead_letter_queues.append(target)
    return Roles(producers=producers, consumers=consumers, dead_letter_queues=dead_letter_queues)


def disable_moto_event_sources(lambda_client: Any, roles: Roles) -> None:
    """Disable moto's own polling of each consumer's mapping, so this runner is the only event source.

    moto 5.2.5 polls a mapped queue on every SendMessage and, without Docker,
    fails the invocation and makes the messages visible again. Each send then
    counts as a receive of every message in the queue, and early messages reach
    the dead-letter queue before any handler runs.
    """
    for _, mapping, _ in roles.consumers:
        lambda_client.update_event_source_mapping(UUID=mapping.uuid, Enabled=False)


def run_messages(
    inventories: Sequence[StackInventory],
    *,
    sqs: Any,
    s3: Any,
    lambda_client: Any,
    aws_environment: Mapping[str, str],
    message_count: int,
    work_dir: Path,
    stand_ins: Sequence[QueueInfo] = (),
) -> RunSummary:
    """Send ``message_count`` messages through each producer, drain every consumer, then count the DLQs."""
    summary = RunSummary()
    roles = find_roles(inventories, stand_ins)
    summary.notes += [f"{queue.name} is an empty local stand-in for an imported queue" for queue in stand_ins]
    run_id = uuid.uuid4().hex[:8]
    pattern = message_id_pattern(run_id)
    _note_runtime_mismatch([*roles.producers, *(consumer for consumer, _, _ in roles.consumers)], summary)
    disable_moto_event_sources(lambda_client, roles)
    if roles.consumers:
        summary.notes.append(
            f"moto's own polling of {len(roles.consumers)} event source mapping(s) was disabled, "
            "so this run was their only event source"
        )
    if not roles.producers:
        summary.notes.append("no producer found (a function with QUEUE_URL and no event source mapping): nothing sent")
    next_id = 0
    for producer in roles.producers:
        ids = [f"local-{run_id}-{number}" for number in range(next_id, next_id + message_count)]
        next_id += message_count
        with HandlerWorker(producer, download_code(s3, producer, work_dir), aws_environment) as worker:
            send_messages(worker, ids, summary)
    for consumer, mapping, source in roles.consumers:
        with HandlerWorker(consumer, download_code(s3, consumer, work_dir), aws_environment) as worker:
            drain_queue(worker, mapping, source, sqs=sqs, summary=summary, pattern=pattern)
    for dead_letter_queue in roles.dead_letter_queues:
        summary.dead_letter_ids |= count_dead_letters(sqs, dead_letter_queue, pattern)
    return summary


def _note_runtime_mismatch(functions: Sequence[FunctionInfo], summary: RunSummary) -> None:
    local_runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    runtimes = sorted({function.runtime for function in functions if function.runtime != local_runtime})
    if runtimes:
        # NOTE: compiled packages in the zip were built for the deployed runtime and may not import here.
        summary.notes.append(
            f"function code ran on {local_runtime} from this environment; the deployed runtime is {', '.join(runtimes)}"
        )
