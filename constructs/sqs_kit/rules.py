"""Validation rules shared by the YAML config and the construct props.

Each rule is written once, against canonical setting keys (the config's key
names relative to one queue, such as ``dead_letter.retention``). An entry point
supplies a ``Checker`` that turns those keys into its own names (a config key
path, or a construct path and prop name) and shows each value the way the user
wrote it. A value of ``None`` means omitted or an unresolved CDK token; rules
skip it.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aws_cdk import Token

from . import limits
from .errors import Problem
from .limits import Limit, format_quantity

DEAD_LETTER_SUFFIX = "-dlq"
HIGH_THROUGHPUT_SCOPE = "messageGroup"
HIGH_THROUGHPUT_LIMIT = "perMessageGroupId"
QUEUE_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
ACCOUNT_ID_PATTERN = re.compile(r"\d{12}")
# CloudFormation's rule for stack names.
STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")
TOPIC_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
IAM_PRINCIPAL_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")
ORGANIZATION_ID_PATTERN = re.compile(r"o-[a-z0-9]{10,32}")
QUEUE_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:([A-Za-z0-9_-]{1,80}(?:\.fifo)?)")
KEY_ARN_PATTERN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+")


# The range of each setting, by canonical key; the config reference and JSON Schema are built from it too.
# A FIFO consumer's batch size uses ``limits.BATCH_SIZE_FIFO`` instead.
SETTING_LIMITS: dict[str, Limit] = {
    "retention": limits.RETENTION,
    "visibility_timeout": limits.VISIBILITY_TIMEOUT,
    "delivery_delay": limits.DELIVERY_DELAY,
    "receive_wait": limits.RECEIVE_WAIT,
    "max_message_size_bytes": limits.MAX_MESSAGE_SIZE,
    "dead_letter.max_receive_count": limits.MAX_RECEIVE_COUNT,
    "dead_letter.retention": limits.RETENTION,
    "producer.timeout": limits.FUNCTION_TIMEOUT,
    "producer.memory_mb": limits.FUNCTION_MEMORY,
    "consumer.timeout": limits.FUNCTION_TIMEOUT,
    "consumer.memory_mb": limits.FUNCTION_MEMORY,
    "consumer.batch_size": limits.BATCH_SIZE_STANDARD,
    "consumer.batching_window": limits.BATCHING_WINDOW,
    "consumer.max_concurrency": limits.MAX_CONCURRENCY,
}


@dataclass
class Checker:
    """Collects problems and warnings under the names of one entry point."""

    label: Callable[[str], str]
    show: Callable[[str, object], str]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def fail(self, key: str, value: object, rule: str, fix: str) -> None:
        self.problems.append(Problem(self.label(key), self.show(key, value), rule, fix))

    def fail_type(self, key: str, value: object, expected: str, fix: str) -> None:
        """Record a value of the wrong Python type, shown with its type name rather than a unit."""
        value_with_type = f"{value!r} ({type(value).__name__})"
        self.problems.append(Problem(self.label(key), value_with_type, f"must be {expected}", fix))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def within(self, key: str, value: float | None, limit: Limit | None = None) -> bool:
        """Check that a value lies in its limit (by default ``SETTING_LIMITS[key]``); return False when reported."""
        limit = limit or SETTING_LIMITS[key]
        if value is None:
            return True
        if not float(value).is_integer():
            # CloudFormation takes whole seconds and whole numbers for every setting the kit checks.
            self.fail(key, value, "must be a whole number", "Round it to a whole number of seconds or units.")
            return False
        if limit.contains(value):
            return True
        self.fail(key, value, f"allowed range is {limit.describe()}", "Set a value within that range.")
        return False


@dataclass(frozen=True)
class QueueValues:
    """A queue's settings in seconds, bytes and counts; ``None`` means omitted or unresolved."""

    fifo: bool = False
    name: str | None = None
    content_based_deduplication: bool | None = None
    # CloudFormation's values: "queue" or "messageGroup", and "perQueue" or "perMessageGroupId".
    deduplication_scope: str | None = None
    throughput_limit: str | None = None
    retention: float | None = None
    visibility_timeout: float | None = None
    delivery_delay: float | None = None
    receive_wait: float | None = None
    max_message_size_bytes: float | None = None
    dead_letter: bool = True
    max_receive_count: float | None = None
    dead_letter_retention: float | None = None
    # A dead-letter queue given by the user: whether it is FIFO, and a name to show in errors.
    given_dead_letter_fifo: bool | None = None
    given_dead_letter_name: str | None = None


@dataclass(frozen=True)
class FunctionValues:
    """A Lambda function's timeout in seconds, memory in MB and log retention in days."""

    timeout: float | None = None
    memory_mb: float | None = None
    log_retention_days: float | None = None


@dataclass(frozen=True)
class ConsumerValues(FunctionValues):
    """A consumer function and its SQS event source mapping."""

    batch_size: float | None = None
    batching_window: float | None = None
    max_concurrency: float | None = None


def check_queue(values: QueueValues, checker: Checker) -> None:
    """Check one queue's ranges and the dead-letter queue's retention against the source's."""
    _check_name(values, checker)
    _check_fifo_settings(values, checker)
    retention_ok = checker.within("retention", values.retention)
    checker.within("visibility_timeout", values.visibility_timeout)
    checker.within("delivery_delay", values.delivery_delay)
    checker.within("receive_wait", values.receive_wait)
    checker.within("max_message_size_bytes", values.max_message_size_bytes)
    if not values.dead_letter:
        return
    _check_dead_letter_type(values, checker)
    checker.within("dead_letter.max_receive_count", values.max_receive_count)
    dead_letter_ok = checker.within("dead_letter.retention", values.dead_letter_retention)
    _check_dead_letter_retention(values, checker, dead_letter_ok and retention_ok)


def _check_fifo_settings(values: QueueValues, checker: Checker) -> None:
    fifo_only = {
        "content_based_deduplication": values.content_based_deduplication or None,
        "deduplication_scope": values.deduplication_scope,
        "fifo_throughput_limit": values.throughput_limit,
    }
    if not values.fifo:
        for key, value in fifo_only.items():
            if value is not None:
                checker.fail(key, value, "applies only to FIFO queues", "Remove it, or make the queue FIFO.")
        return
    # High-throughput FIFO: per-message-group throughput needs deduplication per message group,
    # and the kit also rejects the message-group scope without the per-group limit.
    group_scope = values.deduplication_scope == HIGH_THROUGHPUT_SCOPE
    group_limit = values.throughput_limit == HIGH_THROUGHPUT_LIMIT
    if group_scope != group_limit:
        given, missing = (
            ("deduplication_scope", "fifo_throughput_limit")
            if group_scope
            else ("fifo_throughput_limit", "deduplication_scope")
        )
        checker.fail(
            given,
            values.deduplication_scope if group_scope else values.throughput_limit,
            f"high-throughput FIFO needs deduplication_scope '{HIGH_THROUGHPUT_SCOPE}' and fifo_throughput_limit "
            f"'{HIGH_THROUGHPUT_LIMIT}' together, but {missing} is not set to its high-throughput value",
            f"Set {missing} as well, or remove {given}.",
        )


def _check_dead_letter_type(values: QueueValues, checker: Checker) -> None:
    if values.given_dead_letter_fifo is None or values.given_dead_letter_fifo == values.fifo:
        return
    source_type, dead_letter_type = ("FIFO", "standard") if values.fifo else ("standard", "FIFO")
    checker.fail(
        "dead_letter_queue",
        values.given_dead_letter_name,
        f"a dead-letter queue must be the same type as its source queue, but source queue "
        f"'{values.name or 'this queue'}' is {source_type} and dead-letter queue "
        f"'{values.given_dead_letter_name}' is {dead_letter_type}",
        f"Give a {source_type} dead-letter queue, or omit it to have one created.",
    )


def dead_letter_name(source_name: str, fifo: bool) -> str:
    """Return the name the kit gives a queue's dead-letter queue: the source's name plus ``-dlq``."""
    suffix = limits.FIFO_SUFFIX if fifo else ""
    base = source_name.removesuffix(limits.FIFO_SUFFIX) if fifo else source_name
    room = limits.QUEUE_NAME_MAX_LENGTH - len(suffix) - len(DEAD_LETTER_SUFFIX)
    return base[:room] + DEAD_LETTER_SUFFIX + suffix


def _check_name(values: QueueValues, checker: Checker) -> None:
    name = values.name
    if name is None or Token.is_unresolved(name):
        return
    if values.fifo and not name.endswith(limits.FIFO_SUFFIX):
        checker.fail(
            "name", name, f"FIFO queue names must end in '{limits.FIFO_SUFFIX}'", f"Rename it to '{name}.fifo'."
        )
    elif not values.fifo and name.endswith(limits.FIFO_SUFFIX):
        checker.fail("name", name, f"only FIFO queue names end in '{limits.FIFO_SUFFIX}'", "Set fifo, or rename it.")
    base = name.removesuffix(limits.FIFO_SUFFIX)
    # The dead-letter queue's name adds a suffix of this length to the source's.
    room = limits.QUEUE_NAME_MAX_LENGTH - len(DEAD_LETTER_SUFFIX) - (len(limits.FIFO_SUFFIX) if values.fifo else 0)
    if not QUEUE_NAME_PATTERN.fullmatch(base):
        checker.fail(
            "name",
            name,
            "a queue name may contain only letters, digits, hyphens and underscores",
            "Remove the other characters.",
        )
    elif len(base) > room:
        checker.fail(
            "name",
            name,
            f"is {len(name)} characters long; with the dead-letter suffix '{DEAD_LETTER_SUFFIX}' the name must stay "
            f"within {limits.QUEUE_NAME_MAX_LENGTH} characters, so at most {room} characters before any '.fifo'",
            "Shorten the name.",
        )


def _check_dead_letter_retention(values: QueueValues, checker: Checker, both_valid: bool) -> None:
    # A standard queue's DLQ keeps each message's original enqueue time, so a
    # DLQ retention not longer than the source's deletes failed messages soon
    # after they arrive. FIFO queues reset the time on the move.
    source, dead_letter = values.retention, values.dead_letter_retention
    if values.fifo or source is None or dead_letter is None or not both_valid or dead_letter > source:
        return
    if source == dead_letter == limits.RETENTION.maximum:
        checker.warn(
            f"The dead-letter queue's retention equals the source queue's ({format_quantity(source, 's')}), "
            "the maximum SQS allows, so a message that reaches the DLQ late in that period expires soon after. "
            "Shorten the source queue's retention to give the DLQ time to keep failed messages."
        )
        return
    checker.fail(
        "dead_letter.retention",
        dead_letter,
        f"must be longer than the source queue's retention ({format_quantity(source, 's')}), because a standard "
        "queue's dead-letter queue counts retention from each message's original enqueue time",
        f"Set it above {format_quantity(source, 's')}, up to {format_quantity(limits.RETENTION.maximum, 's')}, "
        "or shorten the source queue's retention.",
    )


def check_function(prefix: str, values: FunctionValues, checker: Checker) -> None:
    """Check a function's timeout, memory and log retention; ``prefix`` is ``producer`` or ``consumer``."""
    checker.within(f"{prefix}.timeout", values.timeout)
    checker.within(f"{prefix}.memory_mb", values.memory_mb)
    check_log_retention(f"{prefix}.log_retention_days", values.log_retention_days, checker)


def check_log_retention(key: str, days: float | None, checker: Checker) -> None:
    """Check a log retention against the periods CloudWatch Logs accepts."""
    if days is not None and days not in limits.LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in limits.LOG_RETENTION_DAYS)
        checker.fail(
            key, days, f"CloudWatch Logs accepts only these retention periods in days: {allowed}", "Pick one of them."
        )


def check_stack_name(name: str | None, checker: Checker) -> None:
    """Check a CloudFormation stack name: a letter, then letters, digits and hyphens, 128 characters at most."""
    if name is not None and not Token.is_unresolved(name) and not STACK_NAME_PATTERN.fullmatch(name):
        checker.fail(
            "stack_name",
            name,
            "a stack name starts with a letter and contains only letters, digits and hyphens, 128 at most",
            "Rename it.",
        )


def check_alarm_target(topic_arn: str | None, email: str | None, checker: Checker) -> None:
    """Check where alarms notify: an SNS topic ARN, or an email address for the topic the stack creates."""
    if topic_arn is not None and not TOPIC_ARN_PATTERN.fullmatch(topic_arn):
        checker.fail(
            "alarms.topic_arn",
            topic_arn,
            "is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
            "Give the topic's full ARN.",
        )
    if email is not None and not EMAIL_PATTERN.fullmatch(email):
        checker.fail("alarms.email", email, "is not an email address", "Give an address such as ops@example.com.")
    if topic_arn is not None and email is not None:
        checker.fail(
            "alarms.email",
            email,
            "subscribes to the topic the stack creates, but alarms.topic_arn names an existing topic",
            "Subscribe the address to that topic where it is managed, or remove topic_arn.",
        )


def check_oldest_message_age(age: float | None, retention: int | None, checker: Checker) -> None:
    """Check an oldest-message alarm threshold: from one minute up to the queue's retention."""
    upper = retention if retention is not None else limits.RETENTION.maximum
    checker.within("alarms.oldest_message_age", age, Limit(limits.MINUTE_SECONDS, upper, "s"))


def derived_visibility_timeout(function_timeout: float, batching_window: float) -> int:
    """Return the visibility timeout Lambda's guide recommends: six times the function timeout plus the window."""
    return int(limits.VISIBILITY_TIMEOUT_FACTOR * function_timeout + batching_window)


def check_consumer(values: ConsumerValues, queue: QueueValues, checker: Checker) -> None:
    """Check a consumer's ranges, its batching rules and the queue's visibility timeout against it."""
    check_function("consumer", values, checker)
    batch_limit = limits.BATCH_SIZE_FIFO if queue.fifo else limits.BATCH_SIZE_STANDARD
    batch_ok = checker.within("consumer.batch_size", values.batch_size, batch_limit)
    window_ok = checker.within("consumer.batching_window", values.batching_window)
    checker.within("consumer.max_concurrency", values.max_concurrency)
    if queue.fifo and values.batching_window:
        checker.fail(
            "consumer.batching_window",
            values.batching_window,
            "a batching window is not supported for FIFO queues",
            "Set it to 0 s or remove it.",
        )
    elif (
        batch_ok
        and window_ok
        and values.batch_size is not None
        and values.batching_window is not None
        and values.batch_size > limits.BATCH_SIZE_WITHOUT_WINDOW_MAX
        and values.batching_window < 1
    ):
        checker.fail(
            "consumer.batch_size",
            values.batch_size,
            f"a batch size above {limits.BATCH_SIZE_WITHOUT_WINDOW_MAX} needs a batching window of at least 1 s",
            "Set the batching window to 1 s or more, or lower the batch size to "
            f"{limits.BATCH_SIZE_WITHOUT_WINDOW_MAX}.",
        )
    _check_visibility_against_consumer(values, queue, checker)


def _check_visibility_against_consumer(values: ConsumerValues, queue: QueueValues, checker: Checker) -> None:
    visibility, timeout = queue.visibility_timeout, values.timeout
    if visibility is None or timeout is None or not limits.FUNCTION_TIMEOUT.contains(timeout):
        return
    window = values.batching_window or 0
    recommended = derived_visibility_timeout(timeout, window)
    if visibility < timeout:
        checker.fail(
            "visibility_timeout",
            visibility,
            f"the queue's visibility timeout ({format_quantity(visibility, 's')}) is shorter than the consumer "
            f"function timeout ({format_quantity(timeout, 's')}), and Lambda rejects such an event source mapping",
            f"Set it to {format_quantity(timeout, 's')} or more; six times the function timeout plus the batching "
            f"window, {format_quantity(recommended, 's')}, is recommended. Or omit it to have that derived.",
        )
    elif visibility < recommended:
        checker.warn(
            f"The visibility timeout ({format_quantity(visibility, 's')}) is less than six times the consumer "
            f"function timeout ({format_quantity(timeout, 's')}) plus the batching window "
            f"({format_quantity(window, 's')}), which is {format_quantity(recommended, 's')}. Messages whose "
            "invocation is throttled or retried can become visible again and be processed twice. Omit it to have "
            "it derived."
        )


def check_imported_queue(
    queue_arn: str, fifo: bool | None, key_arn: str | None, visibility_timeout: float | None, checker: Checker
) -> bool:
    """Check an imported queue's ARN, FIFO flag, key ARN and known visibility timeout; return whether it is FIFO."""
    checker.within("visibility_timeout", visibility_timeout)
    if key_arn is not None and not Token.is_unresolved(key_arn) and not KEY_ARN_PATTERN.fullmatch(key_arn):
        checker.fail(
            "kms_key_arn", key_arn, "is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)", "Give the full ARN."
        )
    if Token.is_unresolved(queue_arn):
        if fifo is None:
            checker.fail(
                "fifo",
                "None",
                "the ARN is a token, so whether the queue is FIFO cannot be read from its name",
                "Set fifo=True or fifo=False.",
            )
        return bool(fifo)
    match = QUEUE_ARN_PATTERN.fullmatch(queue_arn)
    if match is None:
        checker.fail(
            "arn",
            queue_arn,
            "is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)",
            "Give the queue's full ARN.",
        )
        return bool(fifo)
    named_fifo = match.group(1).endswith(limits.FIFO_SUFFIX)
    if fifo is not None and fifo != named_fifo:
        checker.fail(
            "fifo",
            str(fifo),
            f"contradicts the queue name '{match.group(1)}', which {'ends' if named_fifo else 'does not end'} "
            f"in '{limits.FIFO_SUFFIX}'",
            "Remove fifo, or correct the ARN.",
        )
    return named_fifo


def check_cross_account(principals: Sequence[str], organization_id: str | None, checker: Checker) -> None:
    """Check the external principals allowed to send: account ids or IAM ARNs, never a wildcard."""
    for principal in principals:
        if Token.is_unresolved(principal):
            continue
        if "*" in principal or "?" in principal:
            checker.fail(
                "cross_account_producers.principals",
                principal,
                "wildcard principals are not allowed, because they let any matching account send",
                "Name each account id or IAM role ARN.",
            )
        elif not (ACCOUNT_ID_PATTERN.fullmatch(principal) or IAM_PRINCIPAL_ARN_PATTERN.fullmatch(principal)):
            checker.fail(
                "cross_account_producers.principals",
                principal,
                "is neither a 12-digit account id nor an IAM ARN (arn:aws:iam::ACCOUNT:root, :role/NAME or :user/NAME)",
                "Correct the principal.",
            )
    if organization_id is not None and not Token.is_unresolved(organization_id):
        if not ORGANIZATION_ID_PATTERN.fullmatch(organization_id):
            checker.fail(
                "cross_account_producers.organization_id",
                organization_id,
                "is not an AWS Organizations id (o- followed by 10 to 32 lower-case letters or digits)",
                "Copy the id from the Organizations console.",
            )
        if not principals:
            checker.fail(
                "cross_account_producers.organization_id",
                organization_id,
                "limits external principals, but no principals are given",
                "Add principals, or remove organization_id.",
            )
