"""The ``sqs-kit drill`` command: deploy into moto, send messages with injected faults, and prove none is lost.

It deploys like ``sqs-kit local``, with stand-ins for imported queues. It sends
``--messages`` ids through every producer's deployed code and runs every
consumer behind the Lambda-like event source of ``eventsource.py`` with
time-compressed timers. It prints a progress line about every second and ends
when the queues are quiet. The report counts each id as processed, dead-lettered or lost, checks
that poison and malformed messages took exactly ``maxReceiveCount`` receives,
and lists API requests by operation. Exit code 1 if an id was lost.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .chart import Sample, write_chart
from .deploy import CdkApp
from .eventsource import (
    CompressedVisibility,
    EventSource,
    SourceSettings,
    TimeScale,
    Tracker,
    count_client_requests,
    minimum_visibility_seconds,
)
from .faults import Fault, FaultMix, FaultPlan, plan_faults
from .report import DrillOutcome, FunctionInfo, MappingInfo, QueueInfo, format_drill_report, format_inventory
from .runner import (
    HandlerWorker,
    Roles,
    count_dead_letters,
    disable_moto_event_sources,
    download_code,
    find_roles,
    message_id_pattern,
    producer_message,
)
from .server import MotoServer, aws_client, local_aws_environment
from .standins import LocalDeployment, deploy_with_stand_ins

logger = logging.getLogger(__name__)

DEFAULT_MESSAGES = 1_000
DEFAULT_CHART = Path("drill.png")
# Real seconds per local second; 60 turns the dev queue's 180 s visibility timeout into 3 s.
DEFAULT_TIME_SCALE = 60.0
DEFAULT_MAX_SECONDS = 600.0
PROGRESS_INTERVAL_SECONDS = 1.0
# Quiet means empty queues and nothing in flight on this many samples in a row.
QUIET_SAMPLES = 2
# Messages per producer invocation; the producer splits them into SendMessageBatch calls of 10.
PRODUCER_EVENT_SIZE = 100
DRILL_ENVIRONMENT = {"SQS_KIT_DRILL_FAULTS": "true"}
COUNT_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


@dataclass(frozen=True)
class DrillOptions:
    """The drill's command-line options, checked."""

    messages: int
    mix: FaultMix
    seed: int
    time_scale: TimeScale
    max_seconds: float
    queue_filter: str | None
    chart: Path | None


@dataclass
class DrillRun:
    """The result of one drill: the outcome for the report, the samples for the chart, per-group order."""

    outcome: DrillOutcome
    samples: list[Sample]
    order_by_group: dict[str, list[str]]
    plan: FaultPlan


@dataclass
class Target:
    """One drilled queue: its producer, its consumer mapping, and its dead-letter queue if any."""

    producer: FunctionInfo
    queue: QueueInfo
    consumer: tuple[FunctionInfo, MappingInfo] | None
    dead_letter_queue: QueueInfo | None
    ids: list[str] = field(default_factory=list)

    @property
    def max_receive_count(self) -> int | None:
        redrive = self.queue.redrive_policy
        return int(redrive["maxReceiveCount"]) if redrive and self.dead_letter_queue else None


# Command line


def register_drill(commands: Any) -> None:
    """Add the ``drill`` sub-parser to the ``sqs-kit`` sub-parsers ``commands``."""
    drill = commands.add_parser(
        "drill",
        help="deploy locally and send messages with injected faults; exit 1 if any is lost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    drill.add_argument("--env", help="the app's environment, passed as `-c env=ENV` (sqs-kit: config/ENV.yaml)")
    drill.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with cdk.json (default: current)")
    drill.add_argument("--cdk", type=Path, help="path of the CDK CLI (default: APP_DIR/node_modules/.bin/cdk)")
    drill.add_argument(
        "--context", action="append", default=[], metavar="KEY=VALUE", help="a CDK context value; repeatable"
    )
    drill.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="messages per producer (default: 1000)")
    for name, what in (
        ("transient", "fail on their first one or two receives, then succeed"),
        ("poison", "always fail"),
        ("malformed", "have a body that is not JSON"),
        ("duplicates", "are sent twice"),
        ("slow", "outlast the function timeout on their first receive"),
    ):
        drill.add_argument(f"--{name}", type=float, default=0.0, metavar="FRACTION", help=f"share that {what}")
    drill.add_argument("--seed", type=int, default=1, help="seed for choosing the faulty messages (default: 1)")
    drill.add_argument("--queue", help="drill only queues whose name contains this text (default: all)")
    drill.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help=f"divide visibility timeouts, function timeouts and batching windows by this (default: "
        f"{DEFAULT_TIME_SCALE:g}); see docs/local-runner.md",
    )
    drill.add_argument(
        "--max-seconds", type=float, default=DEFAULT_MAX_SECONDS, help="stop waiting for quiet queues after this"
    )
    drill.add_argument("--chart", type=Path, default=DEFAULT_CHART, help="PNG chart path (default: ./drill.png)")
    drill.add_argument("--no-chart", action="store_true", help="write no chart")
    drill.add_argument("--port", type=int, help="moto server port on 127.0.0.1 (default: a free port)")
    drill.add_argument("--keep-running", action="store_true", help="keep the server up after the report, until Ctrl-C")
    drill.set_defaults(handler=run_drill_command)


def drill_options(args: argparse.Namespace) -> DrillOptions:
    """Return the checked options. Raise ``ValueError`` listing every invalid one."""
    mix = FaultMix(
        transient=args.transient,
        poison=args.poison,
        malformed=args.malformed,
        slow=args.slow,
        duplicates=args.duplicates,
    )
    problems = mix.problems()
    if args.messages < 1:
        problems.append(f"--messages {args.messages}: expected 1 or more")
    if args.time_scale < 1:
        problems.append(f"--time-scale {args.time_scale:g}: expected 1 (real time) or more")
    if args.max_seconds <= 0:
        problems.append(f"--max-seconds {args.max_seconds:g}: expected more than 0")
    if problems:
        raise ValueError("Invalid drill options:\n" + "\n".join(f"- {problem}" for problem in problems))
    return DrillOptions(
        messages=args.messages,
        mix=mix,
        seed=args.seed,
        time_scale=TimeScale(args.time_scale),
        max_seconds=args.max_seconds,
        queue_filter=args.queue,
        chart=None if args.no_chart else args.chart,
    )


def run_drill_command(args: argparse.Namespace) -> int:
    """Run ``sqs-kit drill`` and return its exit code: 1 if a message was lost."""
    from .cli import parse_context, wait_for_interrupt  # noqa: PLC0415 - cli imports this module to register it

    options = drill_options(args)
    context = parse_context(args.context)
    if args.env:
        context["env"] = args.env
    with tempfile.TemporaryDirectory(prefix="sqs-kit-drill-") as work, MotoServer(port=args.port) as server:
        work_dir = Path(work)
        app = CdkApp(app_dir=args.app_dir.resolve(), output_dir=work_dir / "cdk.out", cdk=args.cdk, context=context)
        deployment = deploy_with_stand_ins(server, app)
        for inventory in deployment.inventories:
            print("\n".join(format_inventory(inventory)))
        run = run_drill(server, deployment, options, work_dir, progress=sys.stdout)
        print("\n".join(format_drill_report(run.outcome)), flush=True)
        if options.chart is not None and write_chart(run.samples, options.chart, "sqs-kit drill"):
            print(f"Chart: {options.chart.resolve()}")
        if args.keep_running:
            wait_for_interrupt(server)
    if run.outcome.lost_ids:
        logger.error("%d of %d messages were lost", len(run.outcome.lost_ids), len(run.outcome.sent_ids))
        return 1
    return 0


# Choosing what to drill


def find_targets(roles: Roles, queue_filter: str | None) -> list[Target]:
    """Pair each producer with the queue it sends to, that queue's consumer and its dead-letter queue."""
    sources = {queue.name: (function, mapping, queue) for function, mapping, queue in roles.consumers}
    by_arn = {queue.arn: queue for queue in roles.dead_letter_queues}
    targets = []
    for producer in roles.producers:
        name = producer.environment["QUEUE_URL"].rsplit("/", 1)[-1]
        if queue_filter and queue_filter not in name:
            continue
        if name not in sources:
            logger.warning("Producer %s sends to %s, which no consumer reads; it is not drilled", producer.name, name)
            continue
        function, mapping, queue = sources[name]
        redrive = queue.redrive_policy
        dead_letter = by_arn.get(redrive.get("deadLetterTargetArn", "")) if redrive else None
        targets.append(Target(producer, queue, (function, mapping), dead_letter))
    return targets


# Running


class Drill:
    """One drill against deployed stacks: workers, event sources, producers, sampling and counting."""

    def __init__(self, server: MotoServer, deployment: LocalDeployment, options: DrillOptions, work_dir: Path) -> None:
        self.options = options
        self.endpoint_url = server.endpoint_url
        self.environment = local_aws_environment(server.endpoint_url, os.environ)
        self.work_dir = work_dir
        self.run_id = uuid.uuid4().hex[:8]
        self.pattern = message_id_pattern(self.run_id)
        self.tracker = Tracker(key_of=self._key_of)
        self.producer_requests: Counter[str] = Counter()
        self.monitor = aws_client("sqs", server.endpoint_url)
        self.poller_sqs = aws_client("sqs", server.endpoint_url)
        count_client_requests(self.poller_sqs, self.tracker)
        roles = find_roles(deployment.inventories, deployment.stand_ins)
        disable_moto_event_sources(aws_client("lambda", server.endpoint_url), roles)
        self.targets = find_targets(roles, options.queue_filter)
        if not self.targets:
            raise ValueError("Nothing to drill: no producer whose queue has a consumer" + self._filter_hint())
        self.stand_ins = [queue.name for queue in deployment.stand_ins]
        self.sent: set[str] = set()
        self.samples: list[Sample] = []
        self.notes: list[str] = []

    def _filter_hint(self) -> str:
        return f" and whose name contains {self.options.queue_filter!r}" if self.options.queue_filter else ""

    def _key_of(self, message: Mapping[str, Any]) -> str:
        found = self.pattern.search(message.get("Body", ""))
        return found.group(0) if found else str(message["MessageId"])

    def plan(self) -> FaultPlan:
        """Number the ids of every target and choose their faults."""
        next_number = 0
        for target in self.targets:
            target.ids = [f"local-{self.run_id}-{n}" for n in range(next_number, next_number + self.options.messages)]
            next_number += self.options.messages
        all_ids = [message_id for target in self.targets for message_id in target.ids]
        return plan_faults(all_ids, self.options.mix, self.options.seed)

    def run(self, progress: Any) -> DrillRun:
        """Run the drill to quiet queues or the time limit, and return what happened."""
        plan = self.plan()
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            sources = [self._event_source(target, stack) for target in self.targets]
            stack.enter_context(self._compressed_visibility(sources))
            for source in sources:
                source.start()
                stack.callback(source.stop)
            sender = threading.Thread(target=self._send_all, args=(plan,), name="drill-sender", daemon=True)
            sender.start()
            self._wait_until_quiet(sender, started, progress)
        return self._result(plan, time.monotonic() - started)

    def _event_source(self, target: Target, stack: contextlib.ExitStack) -> EventSource:
        assert target.consumer is not None
        function, mapping = target.consumer
        settings = SourceSettings.from_deployment(function, mapping, target.queue, self.options.time_scale)
        code_dir = download_code(aws_client("s3", self.endpoint_url), function, self.work_dir)
        workers = []
        for _ in range(settings.concurrency):
            worker = HandlerWorker(
                function,
                code_dir,
                self.environment,
                timeout_seconds=settings.timeout_seconds,
                extra_environment=DRILL_ENVIRONMENT,
            )
            worker.timeout_margin_seconds = 0.2
            workers.append(stack.enter_context(worker))
        return EventSource(settings, sqs=self.poller_sqs, invokers=workers, tracker=self.tracker)

    def _compressed_visibility(self, sources: Sequence[EventSource]) -> CompressedVisibility:
        minimums = {source.settings.queue.url: minimum_visibility_seconds(source.settings) for source in sources}
        queues = [source.settings.queue for source in sources]
        return CompressedVisibility(self.poller_sqs, queues, self.options.time_scale, minimums)

    def _send_all(self, plan: FaultPlan) -> None:
        for target in self.targets:
            code_dir = download_code(aws_client("s3", self.endpoint_url), target.producer, self.work_dir)
            with HandlerWorker(target.producer, code_dir, self.environment) as worker:
                # Duplicates go in later events than their originals, as a producer's retry would send them.
                duplicates = [message_id for message_id in target.ids if message_id in plan.duplicates]
                for chunk in [*_chunks(target.ids, PRODUCER_EVENT_SIZE), *_chunks(duplicates, PRODUCER_EVENT_SIZE)]:
                    self._send_chunk(worker, target, plan, chunk)

    def _send_chunk(self, worker: HandlerWorker, target: Target, plan: FaultPlan, chunk: Sequence[str]) -> None:
        event = {"messages": [producer_message(target.producer, i, plan.body(i)) for i in chunk]}
        invocation = worker.invoke(event)
        self.producer_requests.update(invocation.requests)
        self.sent.update(chunk)
        if not invocation.ok:
            self.notes.append(f"producer {target.producer.name} failed for {len(chunk)} ids: {invocation.error}")

    def _wait_until_quiet(self, sender: threading.Thread, started: float, progress: Any) -> None:
        quiet = 0
        while quiet < QUIET_SAMPLES:
            time.sleep(PROGRESS_INTERVAL_SECONDS)
            sample = self._sample(time.monotonic() - started)
            self.samples.append(sample)
            progress.write(
                f"  {sample.seconds:5.1f} s  sent {len(self.sent):>6}  processed {sample.processed:>6}  "
                f"queued {sample.queued:>6}  in flight {sample.in_flight:>5}  DLQ {sample.dead_letters:>5}\n"
            )
            progress.flush()
            busy = sender.is_alive() or sample.queued or sample.in_flight or self.tracker.in_flight
            quiet = 0 if busy else quiet + 1
            if sample.seconds > self.options.max_seconds:
                self.notes.append(f"stopped after {self.options.max_seconds:g} s with messages still in the queues")
                return

    def _sample(self, seconds: float) -> Sample:
        queued = in_flight = dead_letters = 0
        for target in self.targets:
            counts = self._counts(target.queue)
            queued += counts[0]
            in_flight += counts[1]
            if target.dead_letter_queue is not None:
                dead_letters += sum(self._counts(target.dead_letter_queue))
        processed = len([key for key, count in self.tracker.processed.items() if count])
        return Sample(seconds, queued, in_flight, dead_letters, processed)

    def _counts(self, queue: QueueInfo) -> tuple[int, int]:
        attributes = self.monitor.get_queue_attributes(QueueUrl=queue.url, AttributeNames=COUNT_ATTRIBUTES)
        values = attributes["Attributes"]
        return int(values.get(COUNT_ATTRIBUTES[0], 0)), int(values.get(COUNT_ATTRIBUTES[1], 0))

    def _result(self, plan: FaultPlan, elapsed: float) -> DrillRun:
        dead_letters: set[str] = set()
        for target in self.targets:
            if target.dead_letter_queue is not None:
                dead_letters |= count_dead_letters(self.monitor, target.dead_letter_queue, self.pattern)
        expected = self._expected_dead_letters(plan)
        outcome = DrillOutcome(
            sent_ids=set(self.sent),
            processed=dict(self.tracker.processed),
            dead_letter_ids=dead_letters,
            receives=dict(self.tracker.receives),
            expected_dead_letters=expected,
            requests={"producer (worker)": dict(self.producer_requests), "event source": dict(self.tracker.requests)},
            faults={fault.value: len(plan.ids_with(fault)) for fault in Fault if fault is not Fault.NONE},
            duplicates_sent=len(plan.duplicates),
            invocations=self.tracker.invocations,
            failed_invocations=self.tracker.failed_invocations,
            timeouts=self.tracker.timeouts,
            elapsed_seconds=elapsed,
            time_scale=self.options.time_scale.factor,
            stand_ins=self.stand_ins,
            notes=self.notes,
        )
        return DrillRun(outcome, self.samples, dict(self.tracker.order_by_group), plan)

    def _expected_dead_letters(self, plan: FaultPlan) -> dict[str, int | None]:
        always_fail = plan.ids_with(Fault.POISON) | plan.ids_with(Fault.MALFORMED)
        expected: dict[str, int | None] = {}
        for target in self.targets:
            for message_id in always_fail.intersection(target.ids):
                expected[message_id] = target.max_receive_count
            if target.max_receive_count is None and always_fail.intersection(target.ids):
                self.notes.append(f"{target.queue.name} has no dead-letter queue: its failing messages stay in it")
        return expected


def run_drill(
    server: MotoServer, deployment: LocalDeployment, options: DrillOptions, work_dir: Path, *, progress: Any
) -> DrillRun:
    """Run one drill against an existing local deployment and return what happened."""
    return Drill(server, deployment, options, work_dir).run(progress)


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = ["DrillOptions", "DrillRun", "register_drill", "run_drill"]
