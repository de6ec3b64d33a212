"""``sqs-kit redrive``: move the messages of a dead-letter queue back to its source queue.

Two ways to move them:

- ``StartMessageMoveTask``, SQS's own redrive, used against AWS. SQS moves the
  messages server-side at up to ``--rate`` messages per second, and this command
  reports the task's progress from ``ListMessageMoveTasks``.
- A copy loop (receive, send, delete), used where the endpoint does not
  implement the move task (moto 5.2.5) or when ``--max-messages`` is given,
  which the move task has no parameter for.

The copy loop never deletes a dead letter before SQS accepted its copy, so a run
that stops anywhere loses nothing: received messages become visible again after
``COPY_VISIBILITY_TIMEOUT_SECONDS``. The one window for a duplicate is between a
batch's SendMessageBatch and its DeleteMessageBatch (at most ``MAX_BATCH_SIZE``
messages). In a FIFO queue a copy's deduplication id is fixed per dead letter
(see ``deduplication_id``), so resending that batch within SQS's 5-minute
deduplication interval is accepted and dropped. In a standard queue the batch is delivered twice, which consumers
must tolerate anyway because standard queues deliver at least once.
"""

import argparse
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..actions import KMS_SEND_ACTIONS, REDRIVE_DEAD_LETTER_ACTIONS, REDRIVE_SOURCE_ACTIONS
from .server import FAKE_CREDENTIALS, LOCAL_REGION, LocalServerError, require_loopback
from .state import read_state, state_path

logger = logging.getLogger(__name__)

# SendMessageBatch, DeleteMessageBatch and ReceiveMessage take at most 10 entries.
MAX_BATCH_SIZE = 10
# StartMessageMoveTask accepts MaxNumberOfMessagesPerSecond from 1 to 500.
MAX_RATE_PER_SECOND = 500
# Long enough for one batch's send and delete; short enough that an interrupted run's messages return soon.
COPY_VISIBILITY_TIMEOUT_SECONDS = 60
# Long polling queries every SQS server, so an empty response means no visible message is left.
COPY_WAIT_TIME_SECONDS = 1
MOVE_TASK_POLL_SECONDS = 5.0
DEFAULT_MOVE_TASK_TIMEOUT_SECONDS = 3600.0
MOVE_TASK_DONE_STATUSES = ("COMPLETED", "CANCELLED", "FAILED")
# Error codes of an endpoint without the action. SQS in AWS implements it, so any other error from AWS is reported
# instead of starting the copy loop, which could then run beside a move task.
UNSUPPORTED_ERROR_CODES = frozenset({"InvalidAction", "UnknownOperation", "NotImplemented"})
# moto 5.2.5's server responds to an unimplemented action with a bare HTTP 500 whose error code is "500".
LOCAL_UNSUPPORTED_STATUS = 500
QUEUE_PARAMETER = "/{stack}/queues/{key}/url"
SAMPLE_SIZE = 10
# SQS FIFO queues drop a message whose deduplication id was sent within the last 5 minutes.
DEDUPLICATION_INTERVAL_MS = 5 * 60 * 1000
CLOCK_SKEW_MARGIN_MS = 60 * 1000
REDRIVE_DEDUPLICATION_PREFIX = "redrive-"
BODY_PREVIEW_CHARACTERS = 80


class RedriveError(RuntimeError):
    """A redrive could not start or complete; the message names the queue or option and what to do."""


class MoveTaskUnsupportedError(RedriveError):
    """The endpoint does not implement StartMessageMoveTask."""


@dataclass(frozen=True)
class QueuePair:
    """A source queue and its dead-letter queue."""

    source_url: str
    source_arn: str
    dlq_url: str
    dlq_arn: str
    fifo: bool


@dataclass
class RedriveSummary:
    """The outcome of one redrive: counts of messages moved, rejected by the source and left in the DLQ."""

    mode: str
    moved: int = 0
    failed: int = 0
    remaining: int = 0
    undeleted: int = 0
    sample: list[str] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class Clock:
    """Time functions of the copy loop's rate limit and the task poller; tests replace them."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


class RateLimiter:
    """Spread messages so that no more than ``rate`` per second are sent, measured from the first one."""

    def __init__(self, rate: int | None, clock: Clock) -> None:
        self._rate = rate
        self._clock = clock
        self._start: float | None = None
        self._sent = 0

    def wait_for(self, count: int) -> None:
        """Sleep until ``count`` more messages may be sent, then count them as sent."""
        if self._rate is None:
            return
        now = self._clock.monotonic()
        if self._start is None:
            self._start = now
        earliest = self._start + self._sent / self._rate
        if earliest > now:
            self._clock.sleep(earliest - now)
        self._sent += count


def redrive_policy_statements(source_arn: str, dlq_arn: str, key_arn: str | None = None) -> list[dict[str, Any]]:
    """Return the least-privilege IAM statements for ``sqs-kit redrive`` from ``dlq_arn`` to ``source_arn``.

    The DLQ statement covers both ways of moving: the copy loop (receive,
    change visibility, delete, read attributes) and SQS's move task (start,
    list, cancel). The source statement allows sending and reading the
    attributes that locate the DLQ. ``key_arn`` is the customer-managed KMS key
    of encrypted queues: ``kms:Decrypt`` reads the dead letters and
    ``kms:GenerateDataKey`` encrypts the copies.

    NOTE: the SQS Developer Guide lists for a move task ``sqs:StartMessageMoveTask``,
    ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and ``sqs:GetQueueAttributes`` on the
    DLQ and ``sqs:SendMessage`` on the destination (as remembered, not checked
    against the current page). Looking the queue up by ``--queue`` also needs
    ``ssm:GetParameter`` or ``cloudformation:DescribeStacks``, which are not queue
    permissions and are left out here.
    """
    statements: list[dict[str, Any]] = [
        {
            "Sid": "RedriveFromDeadLetterQueue",
            "Effect": "Allow",
            "Action": list(REDRIVE_DEAD_LETTER_ACTIONS),
            "Resource": dlq_arn,
        },
        {
            "Sid": "RedriveToSourceQueue",
            "Effect": "Allow",
            "Action": list(REDRIVE_SOURCE_ACTIONS),
            "Resource": source_arn,
        },
    ]
    if key_arn is not None:
        statements.append(
            {
                "Sid": "RedriveEncryptedMessages",
                "Effect": "Allow",
                "Action": list(KMS_SEND_ACTIONS),
                "Resource": key_arn,
            }
        )
    return statements


# --- clients and endpoints -------------------------------------------------------------------------------------------


def sqs_client(endpoint_url: str | None, *, retries: bool = True) -> Any:
    """Return an SQS client: the loopback endpoint with fake credentials, or AWS through the credential chain."""
    # Without retries, moto's HTTP 500 for an unimplemented action returns at once instead of after backoff.
    config = None if retries else Config(retries={"total_max_attempts": 1})
    return _session(endpoint_url).client("sqs", endpoint_url=endpoint_url, config=config)


def lookup_client(service: str, endpoint_url: str | None) -> Any:
    """Return a CloudFormation or SSM client for the same endpoint and credentials as ``sqs_client``."""
    return _session(endpoint_url).client(service, endpoint_url=endpoint_url)


def _session(endpoint_url: str | None) -> Any:
    if endpoint_url is None:
        # The caller's profile, environment or role: this is the path to a real account.
        return boto3.session.Session()
    require_loopback(endpoint_url)
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=LOCAL_REGION,
    )


def resolve_endpoint(endpoint: str | None, app_dir: Path) -> str | None:
    """Return ``--endpoint``, else the local server of the state file, else None for AWS."""
    if endpoint is not None:
        require_loopback(endpoint)
        return endpoint
    if state_path(app_dir).exists():
        state = read_state(app_dir)
        logger.info("Using the local moto server at %s from %s", state.endpoint_url, state_path(app_dir))
        return state.endpoint_url
    logger.info("No --endpoint and no %s: using AWS with the default credential chain", state_path(app_dir))
    return None


# --- finding the queues ----------------------------------------------------------------------------------------------


def stack_name_for(env: str, app_dir: Path) -> str:
    """Return the stack name of ``config/<env>.yaml``: its ``stack_name``, else ``sqs-kit-<env>``."""
    path = app_dir / "config" / f"{env}.yaml"
    try:
        # Only the stack name is read: the full settings model would start aws-cdk-lib's Node.js process.
        raw = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError as error:
        raise RedriveError(
            f"Config file {path} not found for --env {env!r}. Pass --stack NAME or --app-dir DIR."
        ) from error
    except yaml.YAMLError as error:
        raise RedriveError(f"Invalid YAML in {path}: {error}") from error
    stack_name = raw.get("stack_name") if isinstance(raw, dict) else None
    return str(stack_name) if stack_name else f"sqs-kit-{env}"


def local_queue_url(sqs: Any, url: str) -> str:
    """Return the URL the local server gives the queue named at the end of ``url``.

    moto stores AWS-style URLs (https://sqs.REGION.amazonaws.com/...) in stack outputs and parameters. Requests
    go to the client's endpoint either way, but the printed summary should name the local queue.
    """
    name = url.rstrip("/").rsplit("/", 1)[-1]
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError as error:
        raise RedriveError(f"Queue {name} not found on the local server ({_error_text(error)}).") from error


def source_url_for(key: str, stack: str, *, ssm: Any, cloudformation: Any) -> str:
    """Return the URL of queue ``key`` of ``stack`` from its SSM parameter, else its CloudFormation output."""
    name = QUEUE_PARAMETER.format(stack=stack, key=key)
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "ParameterNotFound":
            raise
        logger.debug("SSM parameter %s not found; reading the stack outputs", name)
    outputs = _stack_outputs(stack, cloudformation)
    output_key = "".join(part.capitalize() for part in key.split("-")) + "QueueUrl"
    if output_key in outputs:
        return outputs[output_key]
    known = sorted(name.removesuffix("QueueUrl") for name in outputs if name.endswith("QueueUrl"))
    raise RedriveError(
        f"Queue {key!r} not found in stack {stack}: no SSM parameter {name} and no output {output_key}. "
        f"Queues with an output: {', '.join(known) or 'none'}. Pass the config's queue key, or --source-url."
    )


def _stack_outputs(stack: str, cloudformation: Any) -> dict[str, str]:
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise RedriveError(
            f"Stack {stack} not found ({error.response['Error'].get('Message', error)}). "
            "Check --env/--stack and the endpoint or AWS account."
        ) from error
    return {output["OutputKey"]: output["OutputValue"] for output in described[0].get("Outputs", [])}


def queue_pair(sqs: Any, *, source_url: str | None, dlq_url: str | None) -> QueuePair:
    """Return the source and DLQ; a missing one comes from the other's redrive or redrive allow policy."""
    if source_url is None and dlq_url is None:
        raise RedriveError("Missing queue: pass --queue KEY, --source-url URL or --dlq-url URL.")
    if source_url is None:
        assert dlq_url is not None
        source_url = _only_source_of(sqs, dlq_url)
    source = _attributes(sqs, source_url, ["QueueArn", "RedrivePolicy", "FifoQueue"])
    if dlq_url is None:
        dlq_url = _dead_letter_url_of(sqs, source_url, source)
    dlq = _attributes(sqs, dlq_url, ["QueueArn"])
    return QueuePair(
        source_url=source_url,
        source_arn=source["QueueArn"],
        dlq_url=dlq_url,
        dlq_arn=dlq["QueueArn"],
        fifo=source.get("FifoQueue") == "true",
    )


def _attributes(sqs: Any, url: str, names: Sequence[str]) -> dict[str, str]:
    try:
        attributes: dict[str, str] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(names))["Attributes"]
    except ClientError as error:
        raise RedriveError(
            f"Queue {url} not readable ({_error_text(error)}). Check the URL and the endpoint or AWS account."
        ) from error
    return attributes


def _dead_letter_url_of(sqs: Any, source_url: str, source: Mapping[str, str]) -> str:
    if "RedrivePolicy" not in source:
        raise RedriveError(f"Queue {source_url} has no RedrivePolicy, so it has no DLQ. Pass --dlq-url URL.")
    target_arn = json.loads(source["RedrivePolicy"])["deadLetterTargetArn"]
    return _url_of_arn(sqs, target_arn)


def _only_source_of(sqs: Any, dlq_url: str) -> str:
    # NOTE: moto 5.2.5 neither stores nor returns RedriveAllowPolicy, so against it this always needs --source-url.
    attributes = _attributes(sqs, dlq_url, ["All"])
    allow = json.loads(attributes.get("RedriveAllowPolicy", "{}"))
    sources = allow.get("sourceQueueArns", []) if allow.get("redrivePermission") == "byQueue" else []
    if len(sources) != 1:
        raise RedriveError(
            f"The source of DLQ {dlq_url} is not named by one ARN in its RedriveAllowPolicy ({sources or 'none'}). "
            "Pass --source-url URL."
        )
    return _url_of_arn(sqs, sources[0])


def _url_of_arn(sqs: Any, arn: str) -> str:
    # arn:aws:sqs:REGION:ACCOUNT:NAME
    parts = arn.split(":")
    if len(parts) != 6:
        raise RedriveError(f"Invalid queue ARN {arn!r}: expected arn:aws:sqs:REGION:ACCOUNT:NAME.")
    try:
        return str(sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])
    except ClientError as error:
        raise RedriveError(f"Queue {arn} not found: {error.response['Error'].get('Message', error)}.") from error


# --- dry run ---------------------------------------------------------------------------------------------------------


def count_messages(sqs: Any, url: str) -> tuple[int, int]:
    """Return the queue's ApproximateNumberOfMessages and ApproximateNumberOfMessagesNotVisible."""
    attributes = _attributes(sqs, url, ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def dry_run(sqs: Any, pair: QueuePair, max_messages: int | None) -> RedriveSummary:
    """Count the dead letters that a redrive would move and sample up to ``SAMPLE_SIZE``, deleting nothing."""
    visible, _ = count_messages(sqs, pair.dlq_url)
    # Visibility timeout 0 leaves every sampled message visible for the real run.
    response = sqs.receive_message(
        QueueUrl=pair.dlq_url,
        MaxNumberOfMessages=SAMPLE_SIZE,
        VisibilityTimeout=0,
        MessageSystemAttributeNames=["All"],
    )
    sample = [_describe(message) for message in response.get("Messages", [])]
    would_move = visible if max_messages is None else min(visible, max_messages)
    return RedriveSummary(mode="dry run", moved=would_move, remaining=visible, sample=sample)


def _describe(message: Mapping[str, Any]) -> str:
    body = str(message["Body"])
    preview = body if len(body) <= BODY_PREVIEW_CHARACTERS else body[:BODY_PREVIEW_CHARACTERS] + "..."
    group = message.get("Attributes", {}).get("MessageGroupId")
    group_text = f" group={group}" if group else ""
    return f"{message['MessageId']}{group_text} body={preview}"


# --- SQS's move task -------------------------------------------------------------------------------------------------


def start_move_task(sqs: Any, pair: QueuePair, rate: int | None, *, local: bool) -> str:
    """Start SQS's move task from the DLQ to the source; return its handle.

    Raise ``MoveTaskUnsupportedError`` when the endpoint lacks the action. On a
    loopback endpoint that includes moto's bare HTTP 500.
    """
    request: dict[str, Any] = {"SourceArn": pair.dlq_arn, "DestinationArn": pair.source_arn}
    if rate is not None:
        request["MaxNumberOfMessagesPerSecond"] = rate
    try:
        response = sqs.start_message_move_task(**request)
    except NotImplementedError as error:
        # moto in-process (mock_aws) raises this for an action it lacks.
        raise MoveTaskUnsupportedError(f"StartMessageMoveTask is not implemented here: {error}") from error
    except ClientError as error:
        if _unsupported(error, local=local):
            raise MoveTaskUnsupportedError(
                f"StartMessageMoveTask is not supported by this endpoint ({_error_text(error)})"
            ) from error
        raise RedriveError(f"StartMessageMoveTask from {pair.dlq_arn} failed: {_error_text(error)}") from error
    return str(response["TaskHandle"])


def _unsupported(error: ClientError, *, local: bool) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in UNSUPPORTED_ERROR_CODES:
        return True
    # Only a local server gets the benefit of the doubt: from AWS a 500 is a fault to report, not a missing action.
    return local and status == LOCAL_UNSUPPORTED_STATUS


def _error_text(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    if code.isdigit():
        # A bare HTTP status (moto's 500) comes with an HTML page, not an AWS error message.
        return f"HTTP {code}"
    message = str(details.get("Message", "")).strip().splitlines()
    return f"{details.get('Code', 'unknown error')}: {message[0] if message else error}"


def wait_for_move_task(sqs: Any, pair: QueuePair, *, timeout_seconds: float, clock: Clock) -> RedriveSummary:
    """Poll ListMessageMoveTasks until the newest task of the DLQ ends or ``timeout_seconds`` pass."""
    deadline = clock.monotonic() + timeout_seconds
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=pair.dlq_arn, MaxResults=1).get("Results", [])
        if not tasks:
            raise RedriveError(f"No move task listed for {pair.dlq_arn} after starting one. Check the SQS console.")
        task = tasks[0]
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        total = task.get("ApproximateNumberOfMessagesToMove")
        status = str(task.get("Status", "UNKNOWN"))
        logger.info("Move task %s: %d of %s messages moved", status, moved, total if total is not None else "?")
        if status in MOVE_TASK_DONE_STATUSES:
            visible, _ = count_messages(sqs, pair.dlq_url)
            summary = RedriveSummary(mode=f"StartMessageMoveTask ({status})", moved=moved, remaining=visible)
            if status == "FAILED":
                logger.error("Move task failed: %s", task.get("FailureReason", "no reason given"))
                # At least one, so that the command exits 1 even when SQS reports no count.
                summary.failed = max(int(total or 0) - moved, 1)
            return summary
        if clock.monotonic() >= deadline:
            logger.warning(
                "Move task still %s after %.0f s; it continues in SQS. Follow it with "
                "`aws sqs list-message-move-tasks --source-arn %s`",
                status,
                timeout_seconds,
                pair.dlq_arn,
            )
            visible, _ = count_messages(sqs, pair.dlq_url)
            return RedriveSummary(mode=f"StartMessageMoveTask ({status})", moved=moved, remaining=visible)
        clock.sleep(MOVE_TASK_POLL_SECONDS)


# --- the copy loop ---------------------------------------------------------------------------------------------------


def copy_messages(
    sqs: Any,
    pair: QueuePair,
    *,
    max_messages: int | None = None,
    rate: int | None = None,
    clock: Clock | None = None,
    visibility_timeout_seconds: int = COPY_VISIBILITY_TIMEOUT_SECONDS,
    wait_time_seconds: int = COPY_WAIT_TIME_SECONDS,
) -> RedriveSummary:
    """Move dead letters to the source by receive, send and delete, one batch at a time; return the counts.

    A message is deleted from the DLQ only after SendMessageBatch accepted its
    copy. A message whose copy was rejected stays invisible until its
    visibility timeout ends and is not retried in this run.
    """
    limiter = RateLimiter(rate, clock or Clock())
    summary = RedriveSummary(mode="receive-send-delete")
    attempted: set[str] = set()
    batch_limit = min(MAX_BATCH_SIZE, rate or MAX_BATCH_SIZE)
    while max_messages is None or summary.moved + summary.failed < max_messages:
        requested = (
            batch_limit if max_messages is None else min(batch_limit, max_messages - summary.moved - summary.failed)
        )
        # Throttle before receiving, so the sleep never lengthens the time a batch is in flight.
        limiter.wait_for(requested)
        messages = _receive(sqs, pair, requested, visibility_timeout_seconds, wait_time_seconds)
        fresh = [message for message in messages if message["MessageId"] not in attempted]
        if not fresh:
            # Empty, or only messages whose copy failed earlier in this run: stop instead of looping on them.
            break
        attempted.update(message["MessageId"] for message in fresh)
        _move_batch(sqs, pair, fresh, summary)
    summary.remaining = count_messages(sqs, pair.dlq_url)[0]
    return summary


def _receive(sqs: Any, pair: QueuePair, count: int, visibility_timeout: int, wait_time: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=pair.dlq_url,
        MaxNumberOfMessages=count,
        VisibilityTimeout=visibility_timeout,
        WaitTimeSeconds=wait_time,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


def _move_batch(sqs: Any, pair: QueuePair, messages: Sequence[dict[str, Any]], summary: RedriveSummary) -> None:
    by_entry_id = {str(index): message for index, message in enumerate(messages)}
    entries = [copy_entry(entry_id, message, fifo=pair.fifo) for entry_id, message in by_entry_id.items()]
    response = sqs.send_message_batch(QueueUrl=pair.source_url, Entries=entries)
    for failure in response.get("Failed", []):
        message = by_entry_id[failure["Id"]]
        logger.error(
            "Copy of message %s rejected by %s: %s %s; it stays in the DLQ",
            message["MessageId"],
            pair.source_url,
            failure.get("Code"),
            failure.get("Message", ""),
        )
    accepted = [by_entry_id[entry["Id"]] for entry in response.get("Successful", [])]
    summary.failed += len(messages) - len(accepted)
    if not accepted:
        return
    # The duplicate window: from here until DeleteMessageBatch returns, a crash leaves the batch in both queues.
    deleted = sqs.delete_message_batch(
        QueueUrl=pair.dlq_url,
        Entries=[
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(accepted)
        ],
    )
    undeleted = deleted.get("Failed", [])
    for failure in undeleted:
        logger.warning(
            "Message %s was copied but not deleted from the DLQ (%s); it will be redriven again if you rerun",
            accepted[int(failure["Id"])]["MessageId"],
            failure.get("Code"),
        )
    summary.moved += len(accepted)
    summary.undeleted += len(undeleted)


def copy_entry(entry_id: str, message: Mapping[str, Any], *, fifo: bool, now_ms: int | None = None) -> dict[str, Any]:
    """Return the SendMessageBatch entry that copies ``message``: body, message attributes and FIFO ids."""
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = {
            name: _attribute_value(value) for name, value in message["MessageAttributes"].items()
        }
    if fifo:
        attributes = message.get("Attributes", {})
        entry["MessageGroupId"] = attributes["MessageGroupId"]
        entry["MessageDeduplicationId"] = deduplication_id(message, now_ms=now_ms)
    # NOTE: the AWSTraceHeader system attribute and per-message delays are not copied.
    return entry


def deduplication_id(message: Mapping[str, Any], *, now_ms: int | None = None) -> str:
    """Return the deduplication id of a FIFO copy.

    SQS drops a message whose deduplication id was sent to the queue in the
    last 5 minutes, including the original send. So the original id is kept
    only when the original send is older than that, with a margin for clock
    skew. A younger message gets an id derived from its DLQ message id. A rerun
    resends a dead letter with the same id, unless the message crossed that age
    limit between the two runs.
    """
    attributes = message.get("Attributes", {})
    original = attributes.get("MessageDeduplicationId")
    sent_ms = int(attributes.get("SentTimestamp", "0"))
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    # NOTE: this assumes a FIFO DLQ keeps the original SentTimestamp (unchecked). If SQS resets it on the move,
    # old messages get the derived id too, which is still safe.
    if original and now_ms - sent_ms > DEDUPLICATION_INTERVAL_MS + CLOCK_SKEW_MARGIN_MS:
        return str(original)
    return f"{REDRIVE_DEDUPLICATION_PREFIX}{message['MessageId']}"


def _attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    # ReceiveMessage returns empty list fields that SendMessage rejects as unsupported.
    return {key: item for key, item in value.items() if key in ("DataType", "StringValue", "BinaryValue")}


# --- the command -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedriveOptions:
    """Options of one redrive run, as given on the command line."""

    dry_run: bool = False
    rate: int | None = None
    max_messages: int | None = None
    task_timeout_seconds: float = DEFAULT_MOVE_TASK_TIMEOUT_SECONDS


def redrive(
    sqs: Any, pair: QueuePair, options: RedriveOptions, *, local: bool, clock: Clock | None = None
) -> RedriveSummary:
    """Run the dry run, the move task, or the copy loop when the task is unavailable or ``max_messages`` is set."""
    clock = clock or Clock()
    if options.dry_run:
        return dry_run(sqs, pair, options.max_messages)
    if options.max_messages is None:
        try:
            start_move_task(sqs, pair, options.rate, local=local)
        except MoveTaskUnsupportedError as error:
            logger.info("%s; copying the messages instead (receive, send, delete)", error)
        else:
            return wait_for_move_task(sqs, pair, timeout_seconds=options.task_timeout_seconds, clock=clock)
    return copy_messages(sqs, pair, max_messages=options.max_messages, rate=options.rate, clock=clock)


def format_summary(pair: QueuePair, summary: RedriveSummary) -> list[str]:
    """Return the printed summary of a redrive."""
    moved_label = "would move" if summary.mode == "dry run" else "moved"
    lines = [
        f"Redrive {pair.dlq_url}",
        f"     to {pair.source_url}",
        f"  mode        {summary.mode}",
        f"  {moved_label:<11} {summary.moved}",
        f"  failed      {summary.failed}",
        f"  remaining   {summary.remaining} (ApproximateNumberOfMessages of the DLQ)",
    ]
    if summary.undeleted:
        lines.append(f"  undeleted   {summary.undeleted} (copied but still in the DLQ; a rerun sends them again)")
    if summary.sample:
        lines.append("  sample (not deleted):")
        lines.extend(f"    {line}" for line in summary.sample)
    return lines


def register_redrive(commands: Any) -> None:
    """Add the ``redrive`` sub-parser to the ``sqs-kit`` command's sub-parsers."""
    parser = commands.add_parser(
        "redrive",
        help="move the messages of a dead-letter queue back to its source queue",
        description="Move messages from a DLQ back to its source queue: with StartMessageMoveTask against AWS, "
        "or by receive, send and delete where the endpoint lacks it (moto) or --max-messages is given. "
        "Without --endpoint and without a local server state file, it calls AWS with your credential chain. "
        "Exits 1 if a message could not be moved.",
    )
    parser.add_argument("--env", help="environment whose config/ENV.yaml names the stack (default stack sqs-kit-ENV)")
    parser.add_argument("--stack", help="CloudFormation stack name (overrides --env)")
    parser.add_argument("--queue", help="the queue's key in the config, for example orders")
    parser.add_argument("--source-url", help="URL of the source queue (instead of --queue)")
    parser.add_argument("--dlq-url", help="URL of the DLQ (default: from the source's RedrivePolicy)")
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with config/ and .sqs-kit/")
    parser.add_argument(
        "--endpoint", help="loopback SQS endpoint, e.g. http://localhost:5000 (default: .sqs-kit/local.json, else AWS)"
    )
    parser.add_argument("--rate", type=int, help=f"messages per second, 1 to {MAX_RATE_PER_SECOND} (default: no limit)")
    parser.add_argument("--max-messages", type=int, help="move at most this many messages (uses the copy loop)")
    parser.add_argument("--dry-run", action="store_true", help="count and sample the DLQ without moving anything")
    parser.set_defaults(handler=run_redrive)


def validate_options(args: argparse.Namespace) -> RedriveOptions:
    """Return the options of ``args``. Raise ``RedriveError`` naming an invalid or conflicting option."""
    if args.rate is not None and not 1 <= args.rate <= MAX_RATE_PER_SECOND:
        raise RedriveError(f"Invalid --rate {args.rate}: expected 1 to {MAX_RATE_PER_SECOND} messages per second.")
    if args.max_messages is not None and args.max_messages < 1:
        raise RedriveError(f"Invalid --max-messages {args.max_messages}: expected 1 or more.")
    if args.queue and args.source_url:
        raise RedriveError("Pass either --queue or --source-url, but not both.")
    if args.queue and not (args.env or args.stack):
        raise RedriveError(f"--queue {args.queue} needs --env or --stack to find its stack.")
    return RedriveOptions(dry_run=args.dry_run, rate=args.rate, max_messages=args.max_messages)


def run_redrive(args: argparse.Namespace) -> int:
    """Run ``sqs-kit redrive`` and return its exit code: 0 when nothing failed, 1 otherwise."""
    try:
        options = validate_options(args)
        app_dir = args.app_dir.resolve()
        endpoint = resolve_endpoint(args.endpoint, app_dir)
        sqs = sqs_client(endpoint, retries=endpoint is None)
        source_url = args.source_url
        if args.queue:
            stack = args.stack or stack_name_for(args.env, app_dir)
            source_url = source_url_for(
                args.queue,
                stack,
                ssm=lookup_client("ssm", endpoint),
                cloudformation=lookup_client("cloudformation", endpoint),
            )
        dlq_url = args.dlq_url
        if endpoint is not None:
            source_url = source_url and local_queue_url(sqs, source_url)
            dlq_url = dlq_url and local_queue_url(sqs, dlq_url)
        pair = queue_pair(sqs, source_url=source_url, dlq_url=dlq_url)
        summary = redrive(sqs, pair, options, local=endpoint is not None)
    except (RedriveError, LocalServerError) as error:
        logger.error("%s", error)
        return 1
    except (ClientError, BotoCoreError) as error:
        logger.error("Redrive failed: %s", error)
        return 1
    print("\n".join(format_summary(pair, summary)), flush=True)
    return 1 if summary.failed else 0


__all__ = [
    "Clock",
    "QueuePair",
    "RedriveError",
    "RedriveOptions",
    "RedriveSummary",
    "copy_messages",
    "dry_run",
    "queue_pair",
    "redrive",
    "redrive_policy_statements",
    "register_redrive",
    "run_redrive",
]
