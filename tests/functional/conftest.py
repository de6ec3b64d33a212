"""Fixtures for running the Lambda handlers against SQS in moto, in process.

Every test gets fake credentials, the region pinned to us-east-1 and its own
``mock_aws`` context, so no request can reach AWS.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import moto.sqs.models as sqs_models
import pytest
from moto import mock_aws

from sqs_kit.local.moto_server import apply_fifo_correction

REGION = "us-east-1"
LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"


def load_handler(name: str) -> ModuleType:
    """Import ``lambda/<name>/handler.py`` as a new module, so no state is shared between tests.

    The folder name ``lambda`` is a Python keyword, so the file is loaded by path.
    """
    module_name = f"{name}_handler_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(module_name, LAMBDA_DIR / name / "handler.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is created.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Queue:
    """A queue created in moto."""

    name: str
    url: str
    arn: str


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of a Lambda context that Powertools Logger reads."""

    function_name: str = "sqs-kit-test"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:sqs-kit-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set fake credentials, pin the region and drop settings that could point boto3 elsewhere."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def make_queue(sqs: Any) -> Callable[..., Queue]:
    """Return a factory that creates a queue with a unique name, a FIFO queue when ``fifo=True``."""

    def create(*, fifo: bool = False, **attributes: str) -> Queue:
        name = f"test-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
        if fifo:
            attributes = {"FifoQueue": "true", **attributes}
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return Queue(name=name, url=url, arn=arn)

    return create


@pytest.fixture
def producer() -> ModuleType:
    return load_handler("producer")


@pytest.fixture
def consumer() -> ModuleType:
    return load_handler("consumer")


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def batch_calls(sqs: Any) -> list[list[dict[str, Any]]]:
    """Record the entries of every SendMessageBatch call that ``sqs`` makes, before it is sent."""
    calls: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(list(params["Entries"]))

    sqs.meta.events.register("provide-client-params.sqs.SendMessageBatch", record)
    return calls


def receive_all(sqs: Any, queue_url: str, *, visibility_timeout_seconds: int = 30) -> list[dict[str, Any]]:
    """Receive until the queue returns nothing, with every system and message attribute."""
    messages: list[dict[str, Any]] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_timeout_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


def count_messages(sqs: Any, queue_url: str) -> tuple[int, int]:
    """Return the queue's ApproximateNumberOfMessages and ApproximateNumberOfMessagesNotVisible."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def make_sqs_event() -> Callable[[Sequence[dict[str, Any]], Queue], dict[str, Any]]:
    """Return a factory that turns ReceiveMessage output into the event Lambda passes for an SQS batch."""

    def build(messages: Sequence[dict[str, Any]], queue: Queue) -> dict[str, Any]:
        return {"Records": [_to_record(message, queue) for message in messages]}

    return build


def _to_record(message: dict[str, Any], queue: Queue) -> dict[str, Any]:
    # Lambda writes message attributes in camelCase and always includes both list fields.
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": message_attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": REGION,
    }


@pytest.fixture
def log_lines() -> Iterator[Callable[[ModuleType], list[dict[str, Any]]]]:
    """Yield a function that redirects a handler module's Powertools logger and returns what it logged.

    Call it with the module before invoking the handler. Each later call returns
    the JSON log records written so far.
    """
    streams: dict[str, io.StringIO] = {}
    handlers: list[logging.StreamHandler[Any]] = []

    def capture(module: ModuleType) -> list[dict[str, Any]]:
        stream = streams.get(module.__name__)
        if stream is None:
            stream = streams[module.__name__] = io.StringIO()
            # Powertools keeps one handler per service name, shared by every load of the module.
            handler = module.logger.logger_handler
            handler.setStream(stream)
            handlers.append(handler)
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield capture
    for handler in handlers:
        handler.setStream(sys.stdout)


def body_of(order_id: str, **fields: Any) -> str:
    """Return the JSON body of a sample order message."""
    return json.dumps({"order_id": order_id, **fields})


@pytest.fixture
def corrected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apply the local server's corrections for one test."""
    # Recorded first, so that the patch is undone after the test.
    monkeypatch.setattr(sqs_models.SQSBackend, "receive_message", sqs_models.SQSBackend.receive_message)
    monkeypatch.setattr(sqs_models.Queue, "messages", sqs_models.Queue.messages)
    monkeypatch.setattr(sqs_models.Queue, "delete_message", sqs_models.Queue.delete_message)
    monkeypatch.setattr(sqs_models.Queue, "wait_for_messages", sqs_models.Queue.wait_for_messages)
    monkeypatch.setattr(
        sqs_models.SQSBackend, "change_message_visibility", sqs_models.SQSBackend.change_message_visibility
    )
    monkeypatch.setattr(sqs_models.SQSBackend, "purge_queue", sqs_models.SQSBackend.purge_queue)
    apply_fifo_correction()
