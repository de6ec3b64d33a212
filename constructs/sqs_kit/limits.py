"""Service limits and kit defaults, each defined once.

The validators, the construct docstrings and the tests all read these values,
so a limit that AWS changes is changed here only. Batch sizes and the batching
window follow the Lambda developer guide page "Lambda parameters for Amazon SQS
event source mappings" and CDK's SqsEventSourceProps docs. The queue attribute
ranges follow the SQS CreateQueue reference and message quotas.
"""

from dataclasses import dataclass

MINUTE_SECONDS = 60
HOUR_SECONDS = 60 * MINUTE_SECONDS
DAY_SECONDS = 24 * HOUR_SECONDS
KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limit:
    """An inclusive range of allowed values, with the unit used in messages."""

    minimum: int
    maximum: int
    unit: str

    def contains(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum

    def describe(self) -> str:
        return f"{format_quantity(self.minimum, self.unit)} to {format_quantity(self.maximum, self.unit)}"


def format_quantity(value: float, unit: str) -> str:
    """Format a value with its unit, adding a readable form for large durations."""
    if unit != "s":
        return f"{value:,} {unit}".strip() if isinstance(value, int) else f"{value} {unit}".strip()
    readable = format_duration(value)
    seconds = f"{value:,} s" if isinstance(value, int) else f"{value} s"
    return seconds if readable == seconds else f"{readable} ({seconds})"


def format_duration(seconds: float) -> str:
    """Format whole seconds as the largest unit that divides them: 14 d, 12 h, 15 min, 20 s."""
    if not isinstance(seconds, int) or seconds == 0:
        return f"{seconds} s"
    for size, name in ((DAY_SECONDS, "d"), (HOUR_SECONDS, "h"), (MINUTE_SECONDS, "min")):
        if seconds % size == 0:
            return f"{seconds // size} {name}"
    return f"{seconds:,} s"


# Amazon SQS queue attributes (CreateQueue).
RETENTION = Limit(60, 14 * DAY_SECONDS, "s")
VISIBILITY_TIMEOUT = Limit(0, 12 * HOUR_SECONDS, "s")
DELIVERY_DELAY = Limit(0, 15 * MINUTE_SECONDS, "s")
RECEIVE_WAIT = Limit(0, 20, "s")
# SQS raised the maximum message size from 256 KiB to 1 MiB in August 2025.
MAX_MESSAGE_SIZE = Limit(KIB, MIB, "bytes")
MAX_RECEIVE_COUNT = Limit(1, 1000, "")
QUEUE_NAME_MAX_LENGTH = 80
FIFO_SUFFIX = ".fifo"

# AWS Lambda functions and SQS event source mappings.
FUNCTION_TIMEOUT = Limit(1, 15 * MINUTE_SECONDS, "s")
FUNCTION_MEMORY = Limit(128, 10_240, "MB")
BATCH_SIZE_STANDARD = Limit(1, 10_000, "")
BATCH_SIZE_FIFO = Limit(1, 10, "")
# A standard queue's batch size above this needs a batching window of at least 1 s.
BATCH_SIZE_WITHOUT_WINDOW_MAX = 10
BATCHING_WINDOW = Limit(0, 300, "s")
MAX_CONCURRENCY = Limit(2, 1000, "")
# Lambda's guide recommends a visibility timeout of at least six times the
# function timeout, plus the batching window, so throttled retries fit in it.
VISIBILITY_TIMEOUT_FACTOR = 6

# CloudWatch Logs accepts only these retention periods, in days.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip

# Kit defaults, applied when a setting is omitted.
DEFAULT_RETENTION_SECONDS = 4 * DAY_SECONDS
DEFAULT_DEAD_LETTER_RETENTION_SECONDS = 14 * DAY_SECONDS
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
DEFAULT_DELIVERY_DELAY_SECONDS = 0
DEFAULT_RECEIVE_WAIT_SECONDS = 20
DEFAULT_MAX_MESSAGE_SIZE_BYTES = MIB
DEFAULT_MAX_RECEIVE_COUNT = 5
DEFAULT_FUNCTION_TIMEOUT_SECONDS = 30
DEFAULT_PRODUCER_TIMEOUT_SECONDS = 10
DEFAULT_FUNCTION_MEMORY_MB = 256
DEFAULT_BATCH_SIZE = 10
DEFAULT_BATCHING_WINDOW_SECONDS = 0
DEFAULT_MAX_CONCURRENCY = 10
DEFAULT_LOG_RETENTION_DAYS = 30
