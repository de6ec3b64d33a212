"""Send a batch of messages to one SQS queue with SendMessageBatch.

Event shape::

    {
        "messages": [
            {
                "body": "text" | {"any": "JSON object"},
                "id": "caller id, optional",
                "attributes": {"name": "string value"},
                "delay_seconds": 0,
                "group_id": "g1",
                "deduplication_id": "d1"
            }
        ]
    }

Only ``body`` is required. A body that is a JSON object is serialised with
``json.dumps``. ``id`` names the message in errors and logs and defaults to its
position in the list ("0", "1", ...). Ids must be unique within one event.
``attributes`` become SQS message attributes of data type ``String``.
``delay_seconds`` is passed to SQS unchanged, so SQS checks its range. A
per-message delay is not allowed on a FIFO queue, so such a message is rejected
before sending.

FIFO queues (``QUEUE_FIFO=true``): every message needs ``group_id``, its
message group id. The deduplication id is ``deduplication_id`` when given, else
the hex SHA-256 of the UTF-8 body. That is the same value SQS computes when the
queue has content-based deduplication, so on such a queue the field is only
needed to treat two different bodies as one message. On a standard queue
``group_id`` is passed on too (SQS fair queues use it), and ``deduplication_id``
is rejected.

Result: ``{"sent": N, "message_ids": [...]}``, with the SQS message ids in the
order of ``messages``.

Errors: ``InvalidMessageError`` lists every invalid message, including any
whose size is above ``MAX_MESSAGE_SIZE_BYTES``, and nothing is sent.
``SendFailedError`` means some messages were not accepted after the retries.
It carries each of them (caller id, code and message) and the ids of the
messages SQS did accept, which must not be sent again.

Environment: ``QUEUE_URL``, ``QUEUE_FIFO`` ("true" or "false"),
``MAX_MESSAGE_SIZE_BYTES`` (default 1 MiB) and ``POWERTOOLS_SERVICE_NAME``,
read on each call.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

__all__ = [
    "MAX_SEND_ATTEMPTS",
    "SQS_MAX_BATCH_ENTRIES",
    "SQS_MAX_BATCH_PAYLOAD_BYTES",
    "SQS_MAX_MESSAGE_SIZE_BYTES",
    "FailedEntry",
    "InvalidMessageError",
    "SendFailedError",
    "SendResult",
    "handler",
    "send_messages",
]

# SendMessageBatch limits: at most 10 entries, and the sum of the entries' sizes
# at most 1 MiB, which is also the maximum size of one message. sqs_kit.limits
# has the same numbers, but Lambda code does not import it, so repeat a change here.
SQS_MAX_BATCH_ENTRIES = 10
SQS_MAX_BATCH_PAYLOAD_BYTES = 1_048_576
SQS_MAX_MESSAGE_SIZE_BYTES = 1_048_576
SQS_MAX_MESSAGE_ATTRIBUTES = 10
# Total attempts per entry, the first send included.
MAX_SEND_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.1

logger = Logger()
_client: Any = None


class SendResult(TypedDict):
    """Outcome of a send in which SQS accepted every message."""

    sent: int
    message_ids: list[str]


@dataclass(frozen=True)
class FailedEntry:
    """A message that SQS did not accept, with the error SQS returned."""

    id: str
    code: str
    message: str
    sender_fault: bool


class InvalidMessageError(ValueError):
    """Raised before sending when messages in the event are invalid, so nothing was sent."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {problem}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} invalid message(s), nothing was sent:\n{lines}")


class SendFailedError(Exception):
    """Raised when SQS did not accept some messages after the retries.

    ``failures`` lists each rejected message. ``message_ids`` maps the caller id
    of each accepted message to its SQS message id, so a caller that retries must
    skip those.
    """

    def __init__(self, failures: Sequence[FailedEntry], message_ids: Mapping[str, str]) -> None:
        self.failures = list(failures)
        self.message_ids = dict(message_ids)
        lines = "\n".join(
            f"- {failure.id}: {failure.code}: {failure.message} (sender fault: {failure.sender_fault})"
            for failure in self.failures
        )
        super().__init__(
            f"SQS did not accept {len(self.failures)} message(s). The other {len(self.message_ids)} were accepted "
            f"and must not be sent again:\n{lines}"
        )


@dataclass
class _Entry:
    """One SendMessageBatch entry and the caller id it reports under."""

    caller_id: str
    request: dict[str, Any]
    size_bytes: int


@dataclass
class _Outcome:
    accepted: dict[str, str] = field(default_factory=dict)
    failed: list[FailedEntry] = field(default_factory=list)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Mapping[str, Any], context: LambdaContext) -> SendResult:
    """Send the event's messages to the queue in ``QUEUE_URL``, in the shape the module docstring describes."""
    messages = event.get("messages")
    if not isinstance(messages, list):
        logger.error("Invalid producer event without a 'messages' list", messages_type=type(messages).__name__)
        raise InvalidMessageError([f"the event needs a 'messages' list, got {type(messages).__name__}"])

    return send_messages(
        _get_client(),
        os.environ["QUEUE_URL"],
        messages,
        fifo=os.environ.get("QUEUE_FIFO", "false").lower() == "true",
        max_message_size_bytes=int(os.environ.get("MAX_MESSAGE_SIZE_BYTES", SQS_MAX_MESSAGE_SIZE_BYTES)),
    )


def send_messages(
    client: Any,
    queue_url: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    fifo: bool = False,
    max_message_size_bytes: int = SQS_MAX_MESSAGE_SIZE_BYTES,
    max_attempts: int = MAX_SEND_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> SendResult:
    """Send messages with SendMessageBatch, retrying entries that failed through no fault of the sender.

    :param client: a boto3 SQS client.
    :param queue_url: the queue to send to.
    :param messages: messages in the event shape of the module docstring.
    :param fifo: whether the queue is a FIFO queue, which needs a group id per message.
    :param max_message_size_bytes: the queue's maximum message size. A larger message is rejected
        before anything is sent.
    :param max_attempts: attempts per entry, the first included. Only entries with ``SenderFault``
        false are retried, and an accepted entry is never sent again.
    :param sleep: called with the backoff in seconds between attempts, so tests can pass a stub.
    :raises InvalidMessageError: a message is invalid or too large, and nothing was sent.
    :raises SendFailedError: SQS did not accept every message.
    :return: the number sent and the SQS message ids in the order of ``messages``.
    """
    entries = _build_entries(messages, fifo=fifo, max_message_size_bytes=max_message_size_bytes)
    batches = _split_into_batches(entries)
    logger.info("Sending messages", queue_url=queue_url, message_count=len(entries), batch_count=len(batches))

    outcome = _Outcome()
    for batch in batches:
        _send_batch(client, queue_url, batch, outcome, max_attempts=max_attempts, sleep=sleep)

    if outcome.failed:
        for failure in outcome.failed:
            logger.error(
                "Message not accepted",
                id=failure.id,
                code=failure.code,
                error_message=failure.message,
                sender_fault=failure.sender_fault,
            )
        raise SendFailedError(outcome.failed, outcome.accepted)

    message_ids = [outcome.accepted[entry.caller_id] for entry in entries]
    logger.info("Sent messages", sent=len(message_ids), message_ids=message_ids)
    return {"sent": len(message_ids), "message_ids": message_ids}


def _get_client() -> Any:
    global _client  # noqa: PLW0603 - one client per Lambda execution environment, created on first use.
    if _client is None:
        # boto3 is imported here because it takes longer to import than the rest of this module.
        import boto3  # noqa: PLC0415

        _client = boto3.client("sqs")
    return _client


def _build_entries(messages: Sequence[Mapping[str, Any]], *, fifo: bool, max_message_size_bytes: int) -> list[_Entry]:
    """Convert messages to batch entries, checking every message and raising once for all problems."""
    entries: list[_Entry] = []
    problems: list[str] = []
    seen_ids: set[str] = set()
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            problems.append(f"message {position}: expected an object, got {type(message).__name__}")
            continue

        caller_id = str(message.get("id", position))
        if caller_id in seen_ids:
            problems.append(f"message {caller_id!r}: the id is already used by another message, and ids must be unique")
        seen_ids.add(caller_id)

        entry, entry_problems = _build_entry(str(position), caller_id, message, fifo=fifo)
        problems.extend(f"message {caller_id!r}: {problem}" for problem in entry_problems)
        if entry is None:
            continue
        if entry.size_bytes > max_message_size_bytes:
            problems.append(
                f"message {caller_id!r}: size is {entry.size_bytes:,} bytes (UTF-8 body plus attributes), "
                f"above the queue's maximum of {max_message_size_bytes:,} bytes. Shrink it, or store the "
                "payload elsewhere and send a reference"
            )
        entries.append(entry)

    if problems:
        logger.error("Invalid messages, nothing sent", problems=problems)
        raise InvalidMessageError(problems)
    return entries


def _build_entry(
    entry_id: str, caller_id: str, message: Mapping[str, Any], *, fifo: bool
) -> tuple[_Entry | None, list[str]]:
    body = message.get("body")
    if isinstance(body, dict):
        body = json.dumps(body, separators=(",", ":"))
    if not isinstance(body, str) or not body:
        return None, [f"'body' must be a non-empty string or a JSON object, got {type(body).__name__}"]

    # Batch entry ids must match [A-Za-z0-9_-]{1,80}, which caller ids need not.
    request: dict[str, Any] = {"Id": entry_id, "MessageBody": body}
    problems: list[str] = []
    attribute_bytes = _add_attributes(request, message.get("attributes"), problems)
    _add_delivery_options(request, message, fifo=fifo, problems=problems)
    size_bytes = len(body.encode("utf-8")) + attribute_bytes
    return _Entry(caller_id=caller_id, request=request, size_bytes=size_bytes), problems


def _add_attributes(request: dict[str, Any], attributes: Any, problems: list[str]) -> int:
    """Add string message attributes to the request and return the bytes SQS counts for them."""
    if not attributes:
        return 0
    if not isinstance(attributes, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in attributes.items()
    ):
        problems.append("'attributes' must map names to string values")
        return 0
    if len(attributes) > SQS_MAX_MESSAGE_ATTRIBUTES:
        problems.append(f"has {len(attributes)} attributes, but SQS allows at most {SQS_MAX_MESSAGE_ATTRIBUTES}")
        return 0

    request["MessageAttributes"] = {
        name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
    }
    # SQS counts each attribute's name, data type and value towards the message size.
    return sum(len(f"{name}String{value}".encode()) for name, value in attributes.items())


def _add_delivery_options(
    request: dict[str, Any], message: Mapping[str, Any], *, fifo: bool, problems: list[str]
) -> None:
    """Add the delay, message group id and deduplication id that the queue type allows."""
    delay_seconds = message.get("delay_seconds")
    if delay_seconds is not None:
        if fifo:
            problems.append("'delay_seconds' is not allowed on a FIFO queue. Set a delay on the queue instead")
        elif not isinstance(delay_seconds, int) or isinstance(delay_seconds, bool):
            problems.append(f"'delay_seconds' must be an integer, got {delay_seconds!r}")
        else:
            request["DelaySeconds"] = delay_seconds

    group_id = message.get("group_id")
    if group_id is not None:
        request["MessageGroupId"] = str(group_id)
    elif fifo:
        problems.append("'group_id' is required on a FIFO queue")

    deduplication_id = message.get("deduplication_id")
    if fifo:
        body_hash = hashlib.sha256(request["MessageBody"].encode("utf-8")).hexdigest()
        request["MessageDeduplicationId"] = str(deduplication_id) if deduplication_id is not None else body_hash
    elif deduplication_id is not None:
        problems.append("'deduplication_id' is only allowed on a FIFO queue")


def _split_into_batches(entries: Sequence[_Entry]) -> list[list[_Entry]]:
    """Group entries in order into batches within both the entry-count and payload-size limits."""
    batches: list[list[_Entry]] = []
    current: list[_Entry] = []
    current_bytes = 0
    for entry in entries:
        too_many = len(current) == SQS_MAX_BATCH_ENTRIES
        too_large = current_bytes + entry.size_bytes > SQS_MAX_BATCH_PAYLOAD_BYTES
        if current and (too_many or too_large):
            batches.append(current)
            current, current_bytes = [], 0
        current.append(entry)
        current_bytes += entry.size_bytes
    if current:
        batches.append(current)
    return batches


def _send_batch(
    client: Any,
    queue_url: str,
    batch: Sequence[_Entry],
    outcome: _Outcome,
    *,
    max_attempts: int,
    sleep: Callable[[float], None],
) -> None:
    """Send one batch, resending only the entries that failed with ``SenderFault`` false."""
    by_entry_id = {entry.request["Id"]: entry for entry in batch}
    pending = list(batch)
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.send_message_batch(QueueUrl=queue_url, Entries=[entry.request for entry in pending])
        except ClientError as error:
            # botocore has already retried throttling and server errors for the whole request.
            details = error.response.get("Error", {})
            code, text = details.get("Code", "Unknown"), details.get("Message", str(error))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            outcome.failed.extend(
                FailedEntry(entry.caller_id, code, text, sender_fault=status < 500) for entry in pending
            )
            return

        answered: set[str] = set()
        for success in response.get("Successful", []):
            answered.add(success["Id"])
            outcome.accepted[by_entry_id[success["Id"]].caller_id] = success["MessageId"]

        retryable: list[_Entry] = []
        for failure in response.get("Failed", []):
            answered.add(failure["Id"])
            entry = by_entry_id[failure["Id"]]
            failed = FailedEntry(
                entry.caller_id, failure["Code"], failure.get("Message", ""), sender_fault=failure["SenderFault"]
            )
            if failed.sender_fault or attempt == max_attempts:
                outcome.failed.append(failed)
            else:
                retryable.append(entry)

        # An entry the response does not mention may or may not have been stored,
        # so it is reported rather than resent.
        for entry in pending:
            if entry.request["Id"] not in answered:
                outcome.failed.append(
                    FailedEntry(
                        entry.caller_id,
                        "MissingFromResponse",
                        "SendMessageBatch listed this entry neither as successful nor as failed",
                        sender_fault=False,
                    )
                )

        if not retryable:
            return
        delay = random.uniform(0, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        logger.warning(
            "Retrying messages",
            attempt=attempt + 1,
            max_attempts=max_attempts,
            delay_seconds=round(delay, 3),
            ids=[entry.caller_id for entry in retryable],
        )
        sleep(delay)
        pending = retryable
