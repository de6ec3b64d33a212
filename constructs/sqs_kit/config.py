"""Load and validate a YAML config file into typed, immutable settings.

pydantic checks the shape: types, units and unknown keys. The range and
cross-field rules are the ones the constructs apply (``sqs_kit.rules``), so a
config file and a construct reject the same values. Every problem of a file is
reported at once in one ``SettingsError``.
"""

import copy
import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from . import limits
from .errors import Problem, SettingsError
from .rules import (
    Checker,
    ConsumerValues,
    FunctionValues,
    QueueValues,
    check_alarm_target,
    check_consumer,
    check_cross_account,
    check_function,
    check_imported_queue,
    check_log_retention,
    check_oldest_message_age,
    check_queue,
    check_stack_name,
    dead_letter_name,
)

DURATION_PATTERN = re.compile(r"(\d+)(s|m|h|d)")
DURATION_UNITS = {"s": 1, "m": limits.MINUTE_SECONDS, "h": limits.HOUR_SECONDS, "d": limits.DAY_SECONDS}
QUEUE_KEY_PATTERN = re.compile(r"[a-z][a-z0-9-]*")
AUTO = "auto"
SECTIONS = ("queues", "imported_queues")
# CloudFormation's spelling of the config's FIFO values.
CFN_DEDUPLICATION_SCOPES = {"queue": "queue", "message-group": "messageGroup"}
CFN_THROUGHPUT_LIMITS = {"per-queue": "perQueue", "per-message-group-id": "perMessageGroupId"}
ModelT = TypeVar("ModelT", bound=BaseModel)
ValuesT = TypeVar("ValuesT", QueueValues, FunctionValues, ConsumerValues)


def parse_duration(value: object) -> int:
    """Parse ``30s``, ``15m``, ``12h`` or ``14d`` into seconds; a bare number is rejected."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("a duration is a whole number with a unit: s, m, h or d (for example 30s or 4d)")
    match = DURATION_PATTERN.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(
            "a duration is a whole number of 0 or more with a unit: s, m, h or d (for example 30s or 4d)"
            if str(value).strip()[:1] == "-"
            else "a duration needs a unit: s, m, h or d (for example 30s or 4d)"
        )
    return int(match.group(1)) * DURATION_UNITS[match.group(2)]


def parse_visibility(value: object) -> int | None:
    """Parse a visibility timeout: ``auto`` (derived from the consumer) or a duration."""
    if value == AUTO:
        return None
    return parse_duration(value)


DURATION_SCHEMA = {"type": "string", "pattern": r"^\d+(s|m|h|d)$", "examples": ["30s", "15m", "12h", "4d"]}
Seconds = Annotated[int, BeforeValidator(parse_duration), WithJsonSchema(DURATION_SCHEMA)]
AutoOrSeconds = Annotated[
    int | None,
    BeforeValidator(parse_visibility),
    WithJsonSchema({"anyOf": [{"const": AUTO}, DURATION_SCHEMA]}),
]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DeadLetterSettings(_Settings):
    """The dead-letter queue of one queue."""

    max_receive_count: int = Field(limits.DEFAULT_MAX_RECEIVE_COUNT, description="Receives before a message moves.")
    retention: Seconds = Field(limits.DEFAULT_DEAD_LETTER_RETENTION_SECONDS, description="DLQ retention.")


class ProducerSettings(_Settings):
    """The sample producer function; omit the section for no producer."""

    timeout: Seconds = Field(limits.DEFAULT_PRODUCER_TIMEOUT_SECONDS, description="Function timeout.")
    memory_mb: int = Field(limits.DEFAULT_FUNCTION_MEMORY_MB, description="Function memory in MB.")
    log_retention_days: int | None = Field(None, description="Log retention in days. Default: the file's value.")


class ConsumerSettings(_Settings):
    """The sample consumer function and its event source mapping; omit the section for no consumer."""

    timeout: Seconds = Field(limits.DEFAULT_FUNCTION_TIMEOUT_SECONDS, description="Function timeout.")
    memory_mb: int = Field(limits.DEFAULT_FUNCTION_MEMORY_MB, description="Function memory in MB.")
    log_retention_days: int | None = Field(None, description="Log retention in days. Default: the file's value.")
    batch_size: int = Field(limits.DEFAULT_BATCH_SIZE, description="Records per invocation.")
    batching_window: Seconds = Field(limits.DEFAULT_BATCHING_WINDOW_SECONDS, description="Batching window.")
    max_concurrency: int = Field(limits.DEFAULT_MAX_CONCURRENCY, description="Maximum concurrent invocations.")


class QueueAlarmSettings(_Settings):
    """The alarms of one queue."""

    enabled: bool = Field(True, description="Create the queue's alarms.")
    oldest_message_age: Seconds | None = Field(None, description="Alarm threshold. Default: half the retention.")


class AlarmSettings(_Settings):
    """The alarm notification target: an existing topic, or an email subscription to the created one."""

    topic_arn: str | None = Field(None, description="An existing SNS topic. Default: a topic the stack creates.")
    email: str | None = Field(None, description="An address to subscribe to the created topic.")


class CrossAccountSettings(_Settings):
    """External principals allowed to send to a queue, over TLS only."""

    principals: list[str] = Field(description="Account ids or IAM ARNs; wildcards are rejected.")
    organization_id: str | None = Field(None, description="Also require this AWS Organization.")


class QueueSettings(_Settings):
    """One queue, its dead-letter queue, and its optional producer and consumer."""

    name: str | None = Field(None, description="Physical queue name. Default: generated.")
    fifo: bool = Field(False, description="FIFO queue and FIFO dead-letter queue.")
    content_based_deduplication: bool = Field(False, description="FIFO only.")
    retention: Seconds = Field(limits.DEFAULT_RETENTION_SECONDS, description="Message retention.")
    visibility_timeout: AutoOrSeconds = Field(None, description="'auto' derives it from the consumer.")
    delivery_delay: Seconds = Field(limits.DEFAULT_DELIVERY_DELAY_SECONDS, description="Delivery delay.")
    receive_wait: Seconds = Field(limits.DEFAULT_RECEIVE_WAIT_SECONDS, description="Long-polling wait.")
    max_message_size_bytes: int = Field(limits.DEFAULT_MAX_MESSAGE_SIZE_BYTES, description="Maximum message size.")
    encryption: Literal["sqs-managed", "kms-managed", "kms"] = Field("sqs-managed", description="Encryption at rest.")
    deduplication_scope: Literal["queue", "message-group"] | None = Field(
        None, description="FIFO only; 'message-group' with 'per-message-group-id' for high throughput."
    )
    fifo_throughput_limit: Literal["per-queue", "per-message-group-id"] | None = Field(
        None, description="FIFO only; see deduplication_scope."
    )
    dead_letter: DeadLetterSettings = DeadLetterSettings()
    cross_account_producers: CrossAccountSettings | None = None
    alarms: QueueAlarmSettings = QueueAlarmSettings()
    producer: ProducerSettings | None = None
    consumer: ConsumerSettings | None = None


class ImportedQueueSettings(_Settings):
    """A queue created outside this stack, given by ARN or by the SSM parameter that stores its ARN."""

    arn: str | None = Field(None, description="The queue's ARN.")
    arn_parameter: str | None = Field(None, description="Name of an SSM parameter that stores the ARN.")
    fifo: bool | None = Field(None, description="Required with arn_parameter. Default: from the ARN's name.")
    kms_key_arn: str | None = Field(None, description="The customer-managed key that encrypts the queue.")
    visibility_timeout: Seconds | None = Field(None, description="The queue's visibility timeout, if known.")
    max_message_size_bytes: int = Field(limits.DEFAULT_MAX_MESSAGE_SIZE_BYTES, description="Maximum message size.")
    alarms: QueueAlarmSettings = QueueAlarmSettings()
    producer: ProducerSettings | None = None
    consumer: ConsumerSettings | None = None


class AppSettings(_Settings):
    """A whole config file: one stack's queues and their shared settings."""

    stack_name: str | None = Field(None, description="CloudFormation stack name. Default: sqs-kit-<env>.")
    removal_policy: Literal["destroy", "retain"] = Field(description="What happens to queues and keys on delete.")
    log_retention_days: int = Field(limits.DEFAULT_LOG_RETENTION_DAYS, description="Function log retention in days.")
    alarms: AlarmSettings = AlarmSettings()
    queues: dict[str, QueueSettings] = Field(description="Queues by logical name.")
    imported_queues: dict[str, ImportedQueueSettings] = Field({}, description="Existing queues by logical name.")


# The model of each mapping in a config file, for the "allowed keys" hint of an unknown key.
_SECTION_MODELS: Mapping[str, type[BaseModel]] = {
    "": AppSettings,
    "queue": QueueSettings,
    "imported_queue": ImportedQueueSettings,
    "dead_letter": DeadLetterSettings,
    "producer": ProducerSettings,
    "consumer": ConsumerSettings,
    "cross_account_producers": CrossAccountSettings,
    "alarms": AlarmSettings,
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key given twice in one mapping instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"found the key {key!r} twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_settings(path: str | Path) -> AppSettings:
    """Read and validate a config file; raise ``SettingsError`` with every problem in it."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(
            source, [Problem("file", source, f"cannot be read ({error.strerror})", "Check the path.")]
        ) from error
    try:
        # A SafeLoader subclass: it builds only plain data, like yaml.safe_load.
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        raise SettingsError(
            source,
            [
                Problem(
                    "file",
                    source,
                    f"is not valid YAML: {str(error).replace('<unicode string>', source)}",
                    "Fix the syntax.",
                )
            ],
        ) from error
    try:
        return validate_settings(document, source=source)
    except SettingsError as error:
        raise SettingsError(source, _in_file_order(error.problems, _key_lines(text))) from None


def _key_lines(text: str) -> dict[str, int]:
    """Return the 1-based line of every mapping key in a YAML document, by its dotted key path."""
    lines: dict[str, int] = {}
    pending: list[tuple[yaml.Node | None, str]] = [(yaml.compose(text, Loader=yaml.SafeLoader), "")]
    while pending:
        node, prefix = pending.pop()
        if not isinstance(node, yaml.MappingNode):
            continue
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                path = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
                lines[path] = key_node.start_mark.line + 1
                pending.append((value_node, path))
    return lines


def _in_file_order(problems: Sequence[Problem], lines: Mapping[str, int]) -> list[Problem]:
    """Give each problem the line of its setting, or of the closest enclosing key, and sort them by line.

    Problems without a line (about the file as a whole) come last, in their original order.
    """
    located = []
    for problem in problems:
        parts = problem.setting.split(".")
        prefixes = (".".join(parts[:length]) for length in range(len(parts), 0, -1))
        line = next((lines[prefix] for prefix in prefixes if prefix in lines), None)
        located.append(dataclasses.replace(problem, line=line))
    return sorted(located, key=lambda problem: problem.line if problem.line is not None else sys.maxsize)


def validate_settings(document: object, *, source: str) -> AppSettings:
    """Validate a parsed config document; raise ``SettingsError`` with every problem in it."""
    if not isinstance(document, dict):
        kind = "empty" if document is None else type(document).__name__
        raise SettingsError(
            source, [Problem("file", kind, "the top level must be a mapping", "Start with 'removal_policy:'.")]
        )
    problems: list[Problem] = []
    top_level = {key: value for key, value in document.items() if key not in SECTIONS}
    top_level["queues"] = {}
    settings = _parse(AppSettings, top_level, (), problems)
    default_days = settings.log_retention_days if settings is not None else limits.DEFAULT_LOG_RETENTION_DAYS
    if settings is not None:
        _check_top_level(settings, document, problems)

    raw_queues = document.get("queues")
    queues: dict[str, QueueSettings] = {}
    if not raw_queues and not document.get("imported_queues"):
        problems.append(
            Problem(
                "queues",
                _show(raw_queues) if raw_queues is not None else "missing",
                "at least one queue is required",
                "Add a queue under 'queues:'.",
            )
        )
    for key, raw_queue in _section_items(raw_queues, "queues", problems):
        queue = _parse_queue(key, raw_queue, default_days, problems)
        if queue is not None:
            queues[key] = queue
    imported: dict[str, ImportedQueueSettings] = {}
    for key, raw_queue in _section_items(document.get("imported_queues"), "imported_queues", problems):
        if key in (raw_queues or {}):
            problems.append(
                Problem(f"imported_queues.{key}", repr(key), "is also a key under queues", "Use unique logical names.")
            )
        imported_queue = _parse_imported_queue(key, raw_queue, default_days, problems)
        if imported_queue is not None:
            imported[key] = imported_queue
    _check_unique_names(queues, problems)
    if problems or settings is None:
        raise SettingsError(source, problems)
    return settings.model_copy(update={"queues": queues, "imported_queues": imported})


def _check_top_level(settings: AppSettings, document: Mapping[str, Any], problems: list[Problem]) -> None:
    checker = Checker(
        label=lambda setting: setting, show=lambda setting, value: _show(_lookup(document, setting, value))
    )
    check_stack_name(settings.stack_name, checker)
    check_log_retention("log_retention_days", settings.log_retention_days, checker)
    check_alarm_target(settings.alarms.topic_arn, settings.alarms.email, checker)
    problems.extend(checker.problems)


def _section_items(raw: object, section: str, problems: list[Problem]) -> list[tuple[str, object]]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append(Problem(section, _show(raw), "must be a mapping of logical names", "See the README."))
        return []
    return [(str(key), value) for key, value in raw.items()]


def _check_unique_names(queues: Mapping[str, QueueSettings], problems: list[Problem]) -> None:
    """Report a name given twice, counting each queue's dead-letter queue name, which adds ``-dlq``."""
    owners: dict[str, str] = {}
    for key, queue in queues.items():
        if queue.name is None:
            continue
        names = {queue.name: f"queues.{key}", dead_letter_name(queue.name, queue.fifo): f"the DLQ of queues.{key}"}
        for name, owner in names.items():
            if name in owners:
                # One report per queue: a clash of its name usually implies one of its DLQ name too.
                problems.append(
                    Problem(
                        f"queues.{key}.name",
                        repr(queue.name),
                        f"gives the name {name!r} to {owner}, which is also the name of {owners[name]}",
                        "Give each queue its own name; a dead-letter queue is named after its source plus '-dlq'.",
                    )
                )
                break
        for name, owner in names.items():
            owners.setdefault(name, owner)


def _parse_imported_queue(
    key: str, raw: object, default_days: int, problems: list[Problem]
) -> ImportedQueueSettings | None:
    _check_logical_name("imported_queues", key, problems)
    queue = _parse(ImportedQueueSettings, raw if raw is not None else {}, ("imported_queues", key), problems)
    if queue is None:
        return None
    raw_mapping = raw if isinstance(raw, dict) else {}
    checker = Checker(
        label=lambda setting: f"imported_queues.{key}.{setting}",
        show=lambda setting, value: _show(_lookup(raw_mapping, setting, value)),
    )
    prefix = f"imported_queues.{key}"
    if (queue.arn is None) == (queue.arn_parameter is None):
        shown = "missing" if queue.arn is None else "both arn and arn_parameter"
        problems.append(
            Problem(f"{prefix}.arn", shown, "give either arn or arn_parameter, but not both", "Keep exactly one.")
        )
    elif queue.arn_parameter is not None and queue.fifo is None:
        problems.append(
            Problem(
                f"{prefix}.fifo",
                "missing",
                "the ARN comes from a parameter, so whether the queue is FIFO cannot be read from its name",
                "Set fifo: true or fifo: false.",
            )
        )
    fifo = queue.fifo
    if queue.arn is not None:
        fifo = check_imported_queue(queue.arn, queue.fifo, queue.kms_key_arn, queue.visibility_timeout, checker)
    queue_rules = QueueValues(fifo=bool(fifo), visibility_timeout=queue.visibility_timeout)
    check_oldest_message_age(queue.alarms.oldest_message_age, None, checker)
    if queue.producer is not None:
        check_function("producer", _function_values(queue.producer, default_days), checker)
    if queue.consumer is not None:
        check_consumer(consumer_values(queue.consumer, default_days), queue_rules, checker)
    problems.extend(checker.problems)
    return queue


def _check_logical_name(section: str, key: str, problems: list[Problem]) -> None:
    if not QUEUE_KEY_PATTERN.fullmatch(key):
        problems.append(
            Problem(
                f"{section}.{key}",
                repr(key),
                "a queue's logical name may contain only lower-case letters, digits and hyphens, "
                "and starts with a letter",
                "Rename the key.",
            )
        )


def _parse_queue(key: str, raw: object, default_days: int, problems: list[Problem]) -> QueueSettings | None:
    _check_logical_name("queues", key, problems)
    raw_mapping = raw if isinstance(raw, dict) else {}
    shape_problems: list[Problem] = []
    queue = _parse(QueueSettings, raw if raw is not None else {}, ("queues", key), shape_problems)
    problems.extend(shape_problems)
    failed: set[str] = set()
    if queue is None:
        # Check the rest of the queue anyway, so one file reports all of its errors in one run.
        queue, failed = _parse_without_failed_keys(raw_mapping, key, shape_problems)
        if queue is None:
            return None
    checker = Checker(
        label=lambda setting: f"queues.{key}.{setting}",
        show=lambda setting, value: _show(_lookup(raw_mapping, setting, value)),
    )
    values = _blank(queue_values(queue), failed, "")
    check_queue(values, checker)
    retention = None if values.retention is None else int(values.retention)
    check_oldest_message_age(queue.alarms.oldest_message_age, retention, checker)
    if queue.cross_account_producers is not None and "cross_account_producers" not in failed:
        cross_account = queue.cross_account_producers
        check_cross_account(cross_account.principals, cross_account.organization_id, checker)
    if queue.producer is not None and "producer" not in failed:
        check_function("producer", _blank(_function_values(queue.producer, default_days), failed, "producer."), checker)
    if queue.consumer is not None and "consumer" not in failed:
        consumer = _blank(consumer_values(queue.consumer, default_days), failed, "consumer.")
        check_consumer(consumer, values, checker)
    problems.extend(checker.problems)
    return None if failed else queue


def _parse_without_failed_keys(
    raw: Mapping[str, Any], key: str, shape_problems: list[Problem]
) -> tuple[QueueSettings | None, set[str]]:
    """Parse a queue again without the keys whose shape was invalid; return it and those dotted keys."""
    prefix = f"queues.{key}."
    failed = {problem.setting.removeprefix(prefix) for problem in shape_problems if problem.setting.startswith(prefix)}
    trimmed = copy.deepcopy(dict(raw))
    for dotted in failed:
        *parents, last = dotted.split(".")
        node: Any = trimmed
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    try:
        return QueueSettings.model_validate(trimmed), failed
    except ValidationError:
        return None, failed


def _blank(values: ValuesT, failed: set[str], prefix: str) -> ValuesT:
    """Set the values whose keys failed to parse to None, so that the rules skip them."""
    blanked: dict[str, Any] = {}
    for dotted in failed:
        if not dotted.startswith(prefix):
            continue
        name = _VALUE_FIELDS.get(dotted, dotted.removeprefix(prefix))
        if name in {field.name for field in dataclasses.fields(values)} and name not in ("fifo", "dead_letter"):
            blanked[name] = None
    return dataclasses.replace(values, **blanked)


# Dotted config keys whose field in the rule values has another name.
_VALUE_FIELDS = {"dead_letter.max_receive_count": "max_receive_count", "dead_letter.retention": "dead_letter_retention"}


def queue_values(queue: QueueSettings) -> QueueValues:
    return QueueValues(
        fifo=queue.fifo,
        name=queue.name,
        retention=queue.retention,
        visibility_timeout=queue.visibility_timeout,
        delivery_delay=queue.delivery_delay,
        receive_wait=queue.receive_wait,
        max_message_size_bytes=queue.max_message_size_bytes,
        dead_letter=True,
        max_receive_count=queue.dead_letter.max_receive_count,
        dead_letter_retention=queue.dead_letter.retention,
        content_based_deduplication=queue.content_based_deduplication,
        deduplication_scope=CFN_DEDUPLICATION_SCOPES.get(queue.deduplication_scope or ""),
        throughput_limit=CFN_THROUGHPUT_LIMITS.get(queue.fifo_throughput_limit or ""),
    )


def _function_values(function: ProducerSettings, default_days: int) -> FunctionValues:
    return FunctionValues(
        timeout=function.timeout,
        memory_mb=function.memory_mb,
        # An inherited value is checked once, at the top-level key the file sets it with.
        log_retention_days=function.log_retention_days,
    )


def consumer_values(consumer: ConsumerSettings, default_days: int) -> ConsumerValues:
    return ConsumerValues(
        timeout=consumer.timeout,
        memory_mb=consumer.memory_mb,
        log_retention_days=consumer.log_retention_days,
        batch_size=consumer.batch_size,
        batching_window=consumer.batching_window,
        max_concurrency=consumer.max_concurrency,
    )


def _parse(model: type[ModelT], raw: object, prefix: tuple[str, ...], problems: list[Problem]) -> ModelT | None:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            problems.append(_problem_from_pydantic(prefix, detail))
        return None


def _problem_from_pydantic(prefix: tuple[str, ...], detail: Any) -> Problem:
    location = prefix + tuple(str(part) for part in detail["loc"])
    setting = ".".join(location)
    kind = detail["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_section_model(location[:-1]).model_fields)
        return Problem(setting, _show(detail["input"]), "unknown key", f"Remove it or use one of: {allowed}.")
    if kind == "missing":
        return Problem(setting, "missing", "this key is required", "Add it.")
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        return Problem(setting, _show(detail["input"]), f"must be {detail['ctx']['expected']}", "Use one of those.")
    return Problem(setting, _show(detail["input"]), message[:1].lower() + message[1:], "Correct the value.")


def _section_model(location: tuple[str, ...]) -> type[BaseModel]:
    if not location:
        return _SECTION_MODELS[""]
    if location[0] == "queues" and len(location) == 2:
        return _SECTION_MODELS["queue"]
    if location[-1] == "alarms" and len(location) > 1:
        return QueueAlarmSettings
    if location[0] == "imported_queues" and len(location) == 2:
        return _SECTION_MODELS["imported_queue"]
    return _SECTION_MODELS.get(location[-1], AppSettings)


def _lookup(raw: Mapping[str, Any], setting: str, fallback: object) -> object:
    """Return the value as written in the file at a dotted key, or the checked value when absent.

    A list in the file is shown as the one item the rule rejected.
    """
    node: object = raw
    for part in setting.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _default_shown(setting, fallback)
        node = node[part]
    return fallback if isinstance(node, list) else node


def _default_shown(setting: str, value: object) -> str:
    duration_suffixes = ("retention", "timeout", "delay", "wait", "window")
    if setting.endswith(duration_suffixes) and isinstance(value, int):
        return f"{value}s (default)"
    return f"{value} (default)"


def _show(value: object) -> str:
    if isinstance(value, str) and not value.endswith("(default)"):
        return repr(value)
    return str(value)
