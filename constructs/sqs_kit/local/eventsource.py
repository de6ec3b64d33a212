"""Run deployed consumer code the way Lambda's SQS event source does, against a local queue.

What it reproduces, from the deployed mapping and function configuration:

- batches: receives of up to 10 messages are gathered until the mapping's
  batch size is reached or its batching window ends, and handed over in the
  documented SQS event shape (``runner.sqs_record``);
- results: with ``ReportBatchItemFailures`` every record not listed in
  ``batchItemFailures`` is deleted. A handler error, a timeout (the worker is
  killed, as Lambda stops the runtime) or a partial response Lambda cannot read
  fails the whole batch and deletes nothing. Failed messages are not touched:
  they come back when their visibility timeout ends, and moto moves them to the
  dead-letter queue on the receive after ``maxReceiveCount``, as SQS does;
- concurrency: up to ``MaximumConcurrency`` pollers, each with its own worker
  process, each receiving, invoking and settling one batch at a time;
- FIFO: SQS (and moto) return no message of a group while another message of
  it is in flight, so at most one batch per group is in flight and groups keep
  their order. The consumer fails every record after a failed one.

Time compression: each queue's ``VisibilityTimeout`` is divided by a factor
(``TimeScale``) with ``SetQueueAttributes`` for the run and restored after it;
the function timeout and the batching window are divided by the same factor.
Every timer shrinks alike, so the same attempts fail, each failed message comes
back after the same share of the run, and the receive counts and their order
stay those of the real service. SQS takes whole seconds, so a visibility
timeout never goes below 1 s, and the local timeout never below
``MIN_TIMEOUT_SECONDS``, so that the worker's own overhead cannot time it out.

Where it differs from the real service (see also docs/local-runner.md):

- Lambda starts with five pollers and adds more with the backlog, up to
  ``MaximumConcurrency`` (from memory of the Lambda guide, not checked here);
  this starts ``min(MaximumConcurrency, LOCAL_CONCURRENCY_LIMIT)`` at once;
- receives wait at most ``POLL_WAIT_SECONDS`` rather than 20 s, so a quiet
  queue is noticed quickly; this adds empty receives to the request counts;
- the 6 MB invocation payload limit does not end a batch early;
- the worker runs the code on this machine's Python, not the deployed runtime
  and architecture, and with no memory limit.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .runner import REPORT_BATCH_ITEM_FAILURES, SQS_BATCH_LIMIT, Invocation, sqs_record

if TYPE_CHECKING:
    from .report import FunctionInfo, MappingInfo, QueueInfo

logger = logging.getLogger(__name__)

# Receives wait this long at most, so pollers notice the end of a run within a second.
POLL_WAIT_SECONDS = 1
# Pauses between top-up receives inside a batching window, so an empty queue is not polled in a tight loop.
TOP_UP_PAUSE_SECONDS = 0.02
# Two cores run moto, the pollers and the workers; more workers than this only add contention.
LOCAL_CONCURRENCY_LIMIT = 10
# Pollers used when the mapping sets no MaximumConcurrency, in place of Lambda's account-level scaling.
DEFAULT_CONCURRENCY = 5
# A worker needs a few tens of milliseconds per batch of the kit's consumer; below this, timeouts become noise.
MIN_TIMEOUT_SECONDS = 0.5
# The local overhead of one batch that time compression does not shrink: building the event, the call to the
# worker process, reading its reply and the delete. On a busy 2-core machine this reached about a second, and
# a batch still in flight when its visibility timeout ends lets the next message of a FIFO group overtake it.
IN_FLIGHT_MARGIN_SECONDS = 1.5
FIFO_SUFFIX = ".fifo"
PARTIAL_RESPONSE_KEY = "batchItemFailures"
ITEM_IDENTIFIER_KEY = "itemIdentifier"


class Invoker(Protocol):
    """Anything that calls a handler with an event: a ``runner.HandlerWorker``, or a fake in tests."""

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        """Call the handler and return its response or error."""
        ...


@dataclass(frozen=True)
class TimeScale:
    """Divide the service's timers by ``factor`` for a local run; ``factor`` 1 keeps real time."""

    factor: float = 1.0

    def visibility_timeout(self, seconds: int) -> int:
        """Return the local visibility timeout in whole seconds, at least 1."""
        return max(1, round(seconds / self.factor))

    def function_timeout(self, seconds: float) -> float:
        """Return the local function timeout, at least ``MIN_TIMEOUT_SECONDS``."""
        return max(MIN_TIMEOUT_SECONDS, seconds / self.factor)

    def batching_window(self, seconds: float) -> float:
        """Return the local batching window."""
        return seconds / self.factor


@dataclass(frozen=True)
class SourceSettings:
    """The polling settings of one deployed event source mapping: function, mapping, queue and timers."""

    function: FunctionInfo
    mapping: MappingInfo
    queue: QueueInfo
    batching_window_seconds: float
    timeout_seconds: float
    concurrency: int

    @property
    def partial(self) -> bool:
        return REPORT_BATCH_ITEM_FAILURES in self.mapping.function_response_types

    @property
    def fifo(self) -> bool:
        return self.queue.arn.endswith(FIFO_SUFFIX)

    @classmethod
    def from_deployment(
        cls, function: FunctionInfo, mapping: MappingInfo, queue: QueueInfo, time_scale: TimeScale
    ) -> SourceSettings:
        """Return the settings of ``mapping`` with its timers divided by the time scale."""
        concurrency = min(mapping.maximum_concurrency or DEFAULT_CONCURRENCY, LOCAL_CONCURRENCY_LIMIT)
        return cls(
            function=function,
            mapping=mapping,
            queue=queue,
            batching_window_seconds=time_scale.batching_window(mapping.batching_window_seconds),
            timeout_seconds=time_scale.function_timeout(function.timeout_seconds),
            concurrency=concurrency,
        )


# Reading a handler's result as Lambda does


def failed_ids(invocation: Invocation, message_ids: Sequence[str], *, partial: bool) -> set[str]:
    """Return the message ids Lambda would leave in the queue after ``invocation``.

    An error or timeout fails the batch. Without ``ReportBatchItemFailures``
    any response is success. With it, a None or empty response, or a missing,
    None or empty ``batchItemFailures``, is success. A list entry that is not
    an object, or whose ``itemIdentifier`` is missing, None, empty, or not an id
    of the batch, fails the whole batch, as the Lambda guide states. A response
    that is not an object, or that spells ``batchItemFailures`` with other
    casing, fails the whole batch too (our reading: Lambda cannot parse it).
    """
    whole_batch = set(message_ids)
    if not invocation.ok:
        return whole_batch
    response = invocation.response
    if not partial or response is None or response == "":
        return set()
    return _partial_failures(response, whole_batch)


def _partial_failures(response: Any, whole_batch: set[str]) -> set[str]:
    if not isinstance(response, Mapping):
        return _invalid(response, whole_batch)
    failures = response.get(PARTIAL_RESPONSE_KEY)
    if failures is None:
        miscased = PARTIAL_RESPONSE_KEY not in response and any(
            str(key).lower() == PARTIAL_RESPONSE_KEY.lower() for key in response
        )
        return _invalid(response, whole_batch) if miscased else set()
    if not isinstance(failures, list):
        return _invalid(response, whole_batch)
    identifiers = [item.get(ITEM_IDENTIFIER_KEY) if isinstance(item, Mapping) else None for item in failures]
    if any(not identifier or identifier not in whole_batch for identifier in identifiers):
        return _invalid(response, whole_batch)
    return {str(identifier) for identifier in identifiers}


def _invalid(response: Any, whole_batch: set[str]) -> set[str]:
    logger.warning("Invalid partial batch response %.200r: the whole batch fails, as in Lambda", response)
    return whole_batch


# What happened, for reports and tests


@dataclass
class Tracker:
    """Count receives, outcomes and requests of a run, keyed by ``key_of(message)``; safe across threads."""

    key_of: Callable[[Mapping[str, Any]], str] = field(default=lambda message: str(message["MessageId"]))
    receives: Counter[str] = field(default_factory=Counter)
    processed: Counter[str] = field(default_factory=Counter)
    # Keys in the order they were processed, by FIFO message group.
    order_by_group: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    requests: Counter[str] = field(default_factory=Counter)
    invocations: int = 0
    failed_invocations: int = 0
    timeouts: int = 0
    invalid_responses: int = 0
    failed_records: int = 0
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def received(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Record a batch handed to the function."""
        with self._lock:
            self.in_flight += len(messages)
            self.receives.update(self.key_of(message) for message in messages)

    def settled(self, messages: Sequence[Mapping[str, Any]], failed: set[str], invocation: Invocation) -> None:
        """Record the outcome of a batch: which messages succeeded, and how the call went."""
        with self._lock:
            self.in_flight -= len(messages)
            self.invocations += 1
            self.failed_invocations += 0 if invocation.ok else 1
            self.timeouts += 1 if invocation.timed_out else 0
            self.failed_records += len(failed)
            for message in messages:
                if message["MessageId"] in failed:
                    continue
                key = self.key_of(message)
                self.processed[key] += 1
                group = message.get("Attributes", {}).get("MessageGroupId")
                if group is not None:
                    self.order_by_group[group].append(key)

    def count_requests(self, counts: Mapping[str, int]) -> None:
        """Add request counts by ``Service.Operation``."""
        with self._lock:
            self.requests.update(counts)


def count_client_requests(client: Any, tracker: Tracker) -> None:
    """Count every request ``client`` sends into ``tracker``, with a botocore event hook."""

    def count(model: Any, **_: Any) -> None:
        tracker.count_requests({f"{model.service_model.service_id}.{model.name}": 1})

    client.meta.events.register("before-call", count)


# Polling


class EventSource:
    """Pollers for one mapping: each gathers a batch, invokes its own worker, and deletes what succeeded."""

    def __init__(self, settings: SourceSettings, *, sqs: Any, invokers: Sequence[Invoker], tracker: Tracker) -> None:
        if len(invokers) < settings.concurrency:
            raise ValueError(f"{settings.concurrency} pollers need as many invokers, got {len(invokers)}")
        self.settings = settings
        self.sqs = sqs
        self.invokers = list(invokers)[: settings.concurrency]
        self.tracker = tracker
        self.region = settings.queue.arn.split(":")[3]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one poller thread per invoker."""
        for index, invoker in enumerate(self.invokers):
            name = f"poller-{self.settings.queue.name}-{index}"
            thread = threading.Thread(target=self._poll, args=(invoker,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Ask the pollers to stop and wait for each to finish its batch."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _poll(self, invoker: Invoker) -> None:
        while not self._stop.is_set():
            try:
                messages = self.gather_batch()
                if messages:
                    self.process_batch(invoker, messages)
            except Exception:
                # A poller that dies would silently lower the concurrency; Lambda's pollers retry too.
                logger.exception("Poller of %s failed; retrying in %d s", self.settings.queue.name, POLL_WAIT_SECONDS)
                self._stop.wait(POLL_WAIT_SECONDS)

    def gather_batch(self) -> list[dict[str, Any]]:
        """Receive until the batch size is reached or the batching window ends; a window of 0 takes one receive."""
        batch_size = self.settings.mapping.batch_size
        messages = self._receive(min(SQS_BATCH_LIMIT, batch_size), POLL_WAIT_SECONDS)
        if not messages:
            return []
        deadline = time.monotonic() + self.settings.batching_window_seconds
        while len(messages) < batch_size and time.monotonic() < deadline and not self._stop.is_set():
            received = self._receive(min(SQS_BATCH_LIMIT, batch_size - len(messages)), 0)
            messages += received
            if not received:
                time.sleep(TOP_UP_PAUSE_SECONDS)
        return messages

    def _receive(self, count: int, wait_seconds: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.settings.queue.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def process_batch(self, invoker: Invoker, messages: list[dict[str, Any]]) -> set[str]:
        """Invoke the function with ``messages``, delete the ones that succeeded, and return the failed ids."""
        started = time.monotonic()
        self.tracker.received(messages)
        event = {"Records": [sqs_record(message, self.settings.queue.arn, self.region) for message in messages]}
        invocation = invoker.invoke(event)
        self.tracker.count_requests(invocation.requests)
        message_ids = [message["MessageId"] for message in messages]
        failed = failed_ids(invocation, message_ids, partial=self.settings.partial)
        if not invocation.ok:
            logger.debug("Batch of %d failed in %s: %s", len(messages), self.settings.function.name, invocation.error)
        # Recorded before the delete: once it is deleted, another poller may process the next message of its
        # FIFO group, and recording afterwards could put that one first.
        self.tracker.settled(messages, failed, invocation)
        self._delete([message for message in messages if message["MessageId"] not in failed])
        elapsed = time.monotonic() - started
        budget = minimum_visibility_seconds(self.settings)
        if elapsed > budget:
            # The visibility timeout is at least the budget, so these messages may have been visible again
            # before the batch settled, and received twice.
            self.tracker.count_requests({"local.BatchesPastVisibilityTimeout": 1})
            logger.warning(
                "A batch of %d from %s took %.2f s, more than its %.2f s in-flight budget",
                len(messages),
                self.settings.queue.name,
                elapsed,
                budget,
            )
        return failed

    def _delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)]
            result = self.sqs.delete_message_batch(QueueUrl=self.settings.queue.url, Entries=entries)
            for failure in result.get("Failed", []):
                logger.error("DeleteMessageBatch failed for entry %s: %s", failure.get("Id"), failure.get("Message"))


# Time compression on the local queues


@dataclass
class CompressedVisibility:
    """Divide queues' visibility timeouts by the time scale for a run, and restore them afterwards."""

    sqs: Any
    queues: Sequence[QueueInfo]
    time_scale: TimeScale
    minimum_seconds: Mapping[str, float] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)

    def __enter__(self) -> CompressedVisibility:
        for queue in self.queues:
            original = int(queue.attributes.get("VisibilityTimeout", "30"))
            scaled = self.time_scale.visibility_timeout(original)
            # A batch must stay invisible while it is gathered and processed, or it would be received twice.
            floor = math.ceil(self.minimum_seconds.get(queue.url, 0.0))
            local = max(scaled, floor)
            if local != scaled:
                logger.info("Visibility timeout of %s raised to %d s to outlast a local batch", queue.name, local)
            self.sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": str(local)})
            self.applied[queue.url] = local
        return self

    def __exit__(self, *_: object) -> None:
        for queue in self.queues:
            original = queue.attributes.get("VisibilityTimeout", "30")
            self.sqs.set_queue_attributes(QueueUrl=queue.url, Attributes={"VisibilityTimeout": original})


def minimum_visibility_seconds(settings: SourceSettings) -> float:
    """Return how long a batch of ``settings`` can stay in flight locally: window, timeout and local overhead."""
    return settings.batching_window_seconds + settings.timeout_seconds + IN_FLIGHT_MARGIN_SECONDS


__all__ = [
    "CompressedVisibility",
    "EventSource",
    "Invoker",
    "SourceSettings",
    "TimeScale",
    "Tracker",
    "count_client_requests",
    "failed_ids",
    "minimum_visibility_seconds",
]
