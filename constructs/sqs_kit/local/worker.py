"""Serve one function's handler over stdin and stdout: the worker process that ``runner.HandlerWorker`` starts.

Run as ``python -I worker.py CODE_DIR HANDLER``. Until the handler module is
imported, only the standard library is used, so the packages bundled in the
function's zip win over this virtual environment's copies.

Each request is one JSON line ``{"event": ..., "context": ...}``. Each reply
is one JSON line with ``ok``, the response or the error, and the AWS requests
the call made by operation (``requests``), counted with a botocore hook on the
default boto3 session that handlers create their clients from.

Drill faults (``SQS_KIT_DRILL_FAULTS=true`` in the environment): a record whose
JSON body has a ``"drill"`` object is failed or delayed here, around the real
handler, because the consumer has no such hooks. They are injected by the drill,
not behaviour of the deployed code:

- ``{"fail_until_receive": N}``: the record fails while its
  ``ApproximateReceiveCount`` is below N, then goes to the real handler;
- ``{"sleep_on_first_receive": true}``: on the record's first receive the
  whole call sleeps past the function timeout, so the batch times out.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

DRILL_FAULTS_VARIABLE = "SQS_KIT_DRILL_FAULTS"
FIFO_SUFFIX = ".fifo"
# How far past the timeout an injected slow call sleeps; the parent kills the worker long before it wakes.
SLOW_CALL_TIMEOUT_MULTIPLE = 3

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The subset of Lambda's context object that handlers and Powertools read."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.function_name = str(values["function_name"])
        self.function_version = "$LATEST"
        self.invoked_function_arn = str(values["invoked_function_arn"])
        self.memory_limit_in_mb = int(values["memory_limit_in_mb"])
        self.aws_request_id = str(values["aws_request_id"])
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.timeout_seconds = float(values["timeout_seconds"])
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the local timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class RequestCounter:
    """Count the AWS requests this process sends, by ``Service.Operation``."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def install(self) -> None:
        """Hook the default boto3 session, if boto3 is importable; handlers without boto3 make no requests."""
        try:
            import boto3  # noqa: PLC0415 - imported after the zip is on sys.path, so its copy would win
        except ImportError:
            return
        session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION
        if session is not None:
            session.events.register("before-call", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[f"{model.service_model.service_id}.{model.name}"] += 1

    def take(self) -> dict[str, int]:
        """Return the counts since the last call and reset them."""
        counts, self.counts = dict(self.counts), Counter()
        return counts


# Drill faults


def _drill_fault(record: Mapping[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(record.get("body", ""))
    except (TypeError, ValueError):
        return {}
    fault = body.get("drill") if isinstance(body, dict) else None
    return fault if isinstance(fault, dict) else {}


def _receive_count(record: Mapping[str, Any]) -> int:
    return int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))


def _injected_failure(record: Mapping[str, Any]) -> bool:
    return _receive_count(record) < int(_drill_fault(record).get("fail_until_receive", 0))


def with_drill_faults(handler: Handler) -> Handler:
    """Return ``handler`` wrapped so the drill faults of the module docstring apply."""

    def wrapped(event: Any, context: Any) -> Any:
        records = event.get("Records", []) if isinstance(event, Mapping) else []
        if any(_drill_fault(r).get("sleep_on_first_receive") and _receive_count(r) == 1 for r in records):
            time.sleep(context.timeout_seconds * SLOW_CALL_TIMEOUT_MULTIPLE)
        fifo = bool(records) and str(records[0].get("eventSourceARN", "")).endswith(FIFO_SUFFIX)
        failed_positions = [index for index, record in enumerate(records) if _injected_failure(record)]
        if not failed_positions:
            return handler(event, context)
        # FIFO as SqsFifoPartialProcessor does it: after the first failure, every later record fails too.
        failed = records[failed_positions[0] :] if fifo else [records[index] for index in failed_positions]
        failed_ids = {record["messageId"] for record in failed}
        passed = [record for record in records if record["messageId"] not in failed_ids]
        response = handler({**event, "Records": passed}, context) if passed else {"batchItemFailures": []}
        reported = list(response.get("batchItemFailures", [])) if isinstance(response, Mapping) else []
        return {"batchItemFailures": reported + [{"itemIdentifier": message_id} for message_id in failed_ids]}

    return wrapped


# The request loop


def _error_reply(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": error_type or type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def _load_handler(handler_setting: str) -> Handler:
    module_name, _, function_name = handler_setting.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), function_name)
    if os.environ.get(DRILL_FAULTS_VARIABLE) == "true":
        return with_drill_faults(handler)
    return handler


def serve(code_dir: str, handler_setting: str) -> None:
    """Import ``module.function`` from ``code_dir`` and reply to one JSON request per stdin line."""
    # Replies get a private copy of stdout and fd 1 becomes stderr, so handler prints and logs cannot corrupt them.
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.path.insert(0, code_dir)
    counter = RequestCounter()
    counter.install()
    load_error: dict[str, Any] | None = None
    try:
        handler = _load_handler(handler_setting)
    except Exception as error:  # the error is reported on each invocation, as Lambda does
        load_error = _error_reply(error, "Runtime.ImportModuleError")
    for line in sys.stdin:
        request = json.loads(line)
        reply = load_error
        if reply is None:
            try:
                reply = {"ok": True, "response": handler(request["event"], LambdaContext(request["context"]))}
            except Exception as error:
                reply = _error_reply(error)
        replies.write(json.dumps({**reply, "requests": counter.take()}, default=str) + "\n")


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
