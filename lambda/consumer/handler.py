"""Process an SQS batch record by record and report only the failed records.

Each record body is a JSON object that ``process_order`` handles, the sample's
business logic. It needs ``order_id``, and a payload with ``"fail": true``
raises ``OrderFailedError`` so that drills can inject failures on purpose. A
record whose body is not valid JSON fails on its own.

The handler returns ``{"batchItemFailures": [{"itemIdentifier": "<messageId>"}]}``
and the event source mapping deletes every other record. The mapping must have
``ReportBatchItemFailures`` turned on, and this code never deletes messages
itself. On a FIFO queue (event source ARN ending in ``.fifo``) processing stops
at the first failed record, which is reported together with every later record
so that no message overtakes an earlier one of its group. An event without a
non-empty ``Records`` list raises ``InvalidEventError`` so that Lambda retries
the whole invocation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

__all__ = ["InvalidEventError", "OrderFailedError", "handler", "process_order", "record_handler"]

FIFO_SUFFIX = ".fifo"

logger = Logger()
# Powertools raises BatchProcessingError by default when every record fails.
# Turning that off keeps one response shape, so a batch whose records all failed
# still returns each of them in batchItemFailures, and SQS redelivers them the same way.
_standard_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_fifo_processor = SqsFifoPartialProcessor()
# NOTE: SqsFifoPartialProcessor 3.37 takes no raise_on_entire_batch_failure argument, so the
# attribute its base class reads is set after construction.
_fifo_processor.raise_on_entire_batch_failure = False


class InvalidEventError(ValueError):
    """Raised when the event is not an SQS batch, so that Lambda retries the whole invocation."""


class OrderFailedError(Exception):
    """Raised by ``process_order`` for an order it cannot process."""


@logger.inject_lambda_context(clear_state=True)
def handler(event: Mapping[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Process every record of an SQS event and return the message ids of the failed ones."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not records or not all(isinstance(record, Mapping) for record in records):
        logger.error("Invalid SQS event without a non-empty 'Records' list of objects", event_type=type(event).__name__)
        raise InvalidEventError("expected an SQS event with a non-empty 'Records' list of objects")

    # One event source mapping reads one queue, so the first record's ARN is the whole batch's.
    fifo = str(records[0].get("eventSourceARN", "")).endswith(FIFO_SUFFIX)
    processor = _fifo_processor if fifo else _standard_processor
    response = process_partial_response(
        event=dict(event), record_handler=record_handler, processor=processor, context=context
    )
    failed_ids = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    logger.info(
        "Processed batch", record_count=len(records), fifo=fifo, failed_count=len(failed_ids), failed_ids=failed_ids
    )
    return response


def record_handler(record: SQSRecord) -> str:
    """Parse one record's JSON body and process the order in it, raising to fail the record."""
    try:
        payload = json.loads(record.body)
    except json.JSONDecodeError as error:
        logger.warning("Record body is not valid JSON", message_id=record.message_id, error=str(error))
        raise

    try:
        return process_order(payload)
    except Exception:
        logger.exception("Order processing failed", message_id=record.message_id)
        raise


def process_order(payload: Any) -> str:
    """Check and process one order, the sample's business logic, and return its ``order_id``.

    :raises OrderFailedError: the payload is not an object, has no string ``order_id``, or has
        ``"fail": true``, which drills use to inject a failure.
    """
    if not isinstance(payload, dict):
        raise OrderFailedError(f"expected a JSON object, got {type(payload).__name__}")
    order_id = payload.get("order_id")
    if not isinstance(order_id, str) or not order_id:
        raise OrderFailedError("missing 'order_id'. The body must be a JSON object with a non-empty string 'order_id'")
    if payload.get("fail") is True:
        raise OrderFailedError(f"order {order_id!r} has 'fail': true, an injected failure")

    logger.info("Processed order", order_id=order_id)
    return order_id
