"""Measure SQS throughput of the kit's producer and local event source against a naive loop, on a moto server.

Run: ``.venv/bin/python bench/throughput.py [--messages 1000]``. It starts a
moto server on 127.0.0.1, sends and consumes the same number of messages three
ways, and prints a Markdown table for docs/benchmarks.md:

- naive: one SendMessage per message, then one ReceiveMessage of one message
  and one DeleteMessage per message;
- kit producer: ``send_messages`` from lambda/producer/handler.py in process
  (SendMessageBatch of 10);
- kit runner: ``eventsource.EventSource`` with 5 pollers, batches of 10, and
  an in-process handler that succeeds at once, so the figure is SQS traffic,
  not handler time.

Requests are counted with a botocore hook on the clients used.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "constructs"))

from sqs_kit.local.eventsource import EventSource, SourceSettings, TimeScale, Tracker  # noqa: E402
from sqs_kit.local.report import FunctionInfo, MappingInfo, QueueInfo  # noqa: E402
from sqs_kit.local.runner import Invocation  # noqa: E402
from sqs_kit.local.server import MotoServer, aws_client  # noqa: E402

RUNNER_CONCURRENCY = 5
# Bounds the runner phase if messages stop moving.
RUNNER_TIMEOUT_SECONDS = 300.0


def counted_client(endpoint_url: str) -> tuple[Any, Counter[str]]:
    """Return an SQS client and the counter its requests are counted into, by operation."""
    client = aws_client("sqs", endpoint_url)
    counts: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    client.meta.events.register("before-call", count)
    return client, counts


def new_queue(client: Any, name: str) -> str:
    return str(client.create_queue(QueueName=name)["QueueUrl"])


def naive(endpoint_url: str, messages: int) -> dict[str, Any]:
    """Send, receive and delete one message per request."""
    client, counts = counted_client(endpoint_url)
    url = new_queue(client, "bench-naive")
    started = time.perf_counter()
    for number in range(messages):
        client.send_message(QueueUrl=url, MessageBody=f'{{"order_id": "n{number}"}}')
    send_seconds = time.perf_counter() - started
    started = time.perf_counter()
    consumed = 0
    deadline = time.monotonic() + RUNNER_TIMEOUT_SECONDS
    while consumed < messages and time.monotonic() < deadline:
        for message in client.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
            client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            consumed += 1
    return {"send_s": send_seconds, "consume_s": time.perf_counter() - started, "requests": counts}


def load_producer() -> Any:
    spec = importlib.util.spec_from_file_location("bench_producer", REPO_ROOT / "lambda" / "producer" / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_producer"] = module
    spec.loader.exec_module(module)
    return module


class Succeed:
    """An in-process handler that reports no failure."""

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        return Invocation(response={"batchItemFailures": []})


def kit(endpoint_url: str, messages: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send with the kit's producer code, then drain with the local event source."""
    client, send_counts = counted_client(endpoint_url)
    url = new_queue(client, "bench-kit")
    producer = load_producer()
    started = time.perf_counter()
    producer.send_messages(client, url, [{"body": {"order_id": f"k{n}"}} for n in range(messages)])
    sent = {"send_s": time.perf_counter() - started, "requests": send_counts}

    poller, poll_counts = counted_client(endpoint_url)
    arn = poller.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function = FunctionInfo("Bench", "bench", "arn:bench", "handler.handler", "python", (), 30, 256, {}, "", "")
    mapping = MappingInfo("bench", "arn:bench", arn, 10, 0, ("ReportBatchItemFailures",), RUNNER_CONCURRENCY, "")
    queue = QueueInfo("Bench", url, {"QueueArn": arn, "VisibilityTimeout": "30"})
    settings = SourceSettings.from_deployment(function, mapping, queue, TimeScale())
    tracker = Tracker()
    source = EventSource(settings, sqs=poller, invokers=[Succeed()] * RUNNER_CONCURRENCY, tracker=tracker)
    started = time.perf_counter()
    source.start()
    deadline = time.monotonic() + RUNNER_TIMEOUT_SECONDS
    while sum(tracker.processed.values()) < messages and time.monotonic() < deadline:
        time.sleep(0.05)
    consume_seconds = time.perf_counter() - started
    source.stop()
    return sent, {"consume_s": consume_seconds, "requests": poll_counts}


def per_thousand(count: int, messages: int) -> str:
    return f"{count * 1000 / messages:.0f}"


def table(messages: int, naive_run: dict[str, Any], sent: dict[str, Any], consumed: dict[str, Any]) -> str:
    naive_counts = naive_run["requests"]
    rows = [
        "| Path | Messages/s | Requests per 1,000 messages |",
        "| --- | ---: | --- |",
        f"| naive send (SendMessage each) | {messages / naive_run['send_s']:.0f} | "
        f"SendMessage {per_thousand(naive_counts['SendMessage'], messages)} |",
        f"| kit producer (SendMessageBatch) | {messages / sent['send_s']:.0f} | "
        f"SendMessageBatch {per_thousand(sent['requests']['SendMessageBatch'], messages)} |",
        f"| naive consume (receive 1, delete 1) | {messages / naive_run['consume_s']:.0f} | "
        f"ReceiveMessage {per_thousand(naive_counts['ReceiveMessage'], messages)}, "
        f"DeleteMessage {per_thousand(naive_counts['DeleteMessage'], messages)} |",
        f"| kit runner ({RUNNER_CONCURRENCY} pollers, batch 10) | {messages / consumed['consume_s']:.0f} | "
        f"ReceiveMessage {per_thousand(consumed['requests']['ReceiveMessage'], messages)}, "
        f"DeleteMessageBatch {per_thousand(consumed['requests']['DeleteMessageBatch'], messages)} |",
    ]
    naive_loop_s = naive_run["send_s"] + naive_run["consume_s"]
    send_requests = per_thousand(sent["requests"]["SendMessageBatch"], messages)
    rows += [
        "",
        f"- Requests to send 1,000 messages: {send_requests} SendMessageBatch (floor 100, target at most 110).",
        f"- Producer send rate: {naive_run['send_s'] / sent['send_s']:.1f} x the naive SendMessage rate, and "
        f"{naive_loop_s / sent['send_s']:.1f} x the rate of the whole naive loop (one SendMessage, one "
        "ReceiveMessage and one DeleteMessage per message).",
        f"- Producer and runner together: {naive_loop_s / (sent['send_s'] + consumed['consume_s']):.1f} x the "
        "naive loop's messages per second.",
    ]
    return "\n".join(rows)


def main() -> int:
    # The producer logs each batch at INFO; here that would only slow the loop it measures.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="messages per path (default: 1000)")
    args = parser.parse_args()
    with MotoServer() as server:
        naive_run = naive(server.endpoint_url, args.messages)
        sent, consumed = kit(server.endpoint_url, args.messages)
    print(
        f"Command: `.venv/bin/python bench/throughput.py --messages {args.messages}`, "
        f"{time.strftime('%Y-%m-%d')}, {platform.python_version()}, moto server on 127.0.0.1.\n"
    )
    print(table(args.messages, naive_run, sent, consumed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
