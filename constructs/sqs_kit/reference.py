"""Build the config reference and the JSON Schema from the settings models and the rules' limits.

Both come from the code that validates a config file, so they cannot drift
from it. ``scripts/generate_config_docs.py`` writes them to ``docs/``, and a
test fails when the committed copies differ.
"""

import json
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from . import limits
from .config import (
    AlarmSettings,
    AppSettings,
    ConsumerSettings,
    CrossAccountSettings,
    DeadLetterSettings,
    ImportedQueueSettings,
    ProducerSettings,
    QueueAlarmSettings,
    QueueSettings,
)
from .limits import format_duration
from .rules import SETTING_LIMITS

LOG_RETENTION = ", ".join(str(days) for days in limits.LOG_RETENTION_DAYS)
EXTRA_RULES = {
    "consumer.batch_size": f"FIFO: {limits.BATCH_SIZE_FIFO.describe()}; above "
    f"{limits.BATCH_SIZE_WITHOUT_WINDOW_MAX} needs a batching window of at least 1 s",
    "consumer.batching_window": "FIFO: 0 s only",
    "visibility_timeout": "not shorter than the consumer timeout",
    "dead_letter.retention": "longer than `retention` for a standard queue (equal at the 14-day maximum: a warning)",
}
ALARM_AGE_RULE = "1 min to the queue's retention (14 d for an imported queue)"


@dataclass(frozen=True)
class Section:
    """One mapping of a config file: where it sits, its model, and the prefix of its keys in ``SETTING_LIMITS``."""

    path: str
    model: type[BaseModel]
    rule_prefix: str | None


SECTIONS = (
    Section("(top level)", AppSettings, None),
    Section("alarms", AlarmSettings, None),
    Section("queues.NAME", QueueSettings, ""),
    Section("queues.NAME.dead_letter", DeadLetterSettings, "dead_letter."),
    Section("queues.NAME.producer, imported_queues.NAME.producer", ProducerSettings, "producer."),
    Section("queues.NAME.consumer, imported_queues.NAME.consumer", ConsumerSettings, "consumer."),
    Section("queues.NAME.alarms, imported_queues.NAME.alarms", QueueAlarmSettings, None),
    Section("queues.NAME.cross_account_producers", CrossAccountSettings, None),
    Section("imported_queues.NAME", ImportedQueueSettings, ""),
)


def config_reference() -> str:
    """Return the Markdown reference of every config key."""
    lines = [
        "# Config reference",
        "",
        "Generated from `constructs/sqs_kit/config.py` and the limits (`limits.py`, by key in `rules.py`) by",
        "`scripts/generate_config_docs.py`; do not edit by hand. Durations are a whole number with a unit:",
        "`s`, `m`, `h` or `d`. Editors can check config files against `docs/config.schema.json`.",
    ]
    for section in SECTIONS:
        lines += ["", f"## `{section.path}`", "", section.model.__doc__ or "", ""]
        lines += ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"]
        for name, field in section.model.model_fields.items():
            lines.append(_row(section, name, field))
    return "\n".join(lines) + "\n"


def config_schema() -> dict[str, Any]:
    """Return the JSON Schema of a config file, with each setting's range from ``SETTING_LIMITS``."""
    schema = AppSettings.model_json_schema()
    definitions = schema["$defs"]
    for section in SECTIONS:
        properties = definitions.get(section.model.__name__, schema)["properties"]
        for name, field in section.model.model_fields.items():
            _annotate(properties[name], _rule_key(section, name), field)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sqs-kit config file",
        **schema,
    }


def _row(section: Section, name: str, field: FieldInfo) -> str:
    key = _rule_key(section, name)
    kind = _kind(field)
    default = "required" if field.is_required() else _format_default(field.default, kind)
    if default == "-" and _accepts_auto(field):
        default = "`auto`"
    allowed = _allowed(key, field)
    description = (field.description or "").replace("|", "\\|")
    return f"| `{name}` | {kind} | {default} | {allowed} | {description} |"


def _rule_key(section: Section, name: str) -> str | None:
    return None if section.rule_prefix is None else section.rule_prefix + name


def _allowed(key: str | None, field: FieldInfo) -> str:
    parts = []
    if key in SETTING_LIMITS:
        parts.append(SETTING_LIMITS[key].describe())
    literal_values = _literal_values(field.annotation)
    if literal_values:
        parts.append(", ".join(f"`{value}`" for value in literal_values))
    if (key or "").endswith("log_retention_days") or _is_log_retention(field):
        parts.append(LOG_RETENTION)
    if key in EXTRA_RULES:
        parts.append(EXTRA_RULES[key])
    if field.description and field.description.startswith("Alarm threshold"):
        parts.append(ALARM_AGE_RULE)
    return "; ".join(parts) or "-"


def _schema_overrides(field: FieldInfo) -> list[Any]:
    """Return the ``WithJsonSchema`` metadata of a field, also when it is wrapped in ``X | None``."""
    metadata = list(field.metadata)
    for argument in typing.get_args(field.annotation):
        metadata += list(getattr(argument, "__metadata__", ()))
    return [meta.json_schema for meta in metadata if getattr(meta, "json_schema", None)]


def _kind(field: FieldInfo) -> str:
    if _schema_overrides(field):
        return "duration"
    annotation = field.annotation
    if typing.get_origin(annotation) is dict:
        return "mapping of names to sections"
    if any(isinstance(a, type) and issubclass(a, BaseModel) for a in (annotation, *typing.get_args(annotation))):
        return "section"
    if typing.get_origin(annotation) is list:
        return "list of strings"
    if _literal_values(annotation):
        return "one of"
    names = {getattr(arg, "__name__", str(arg)) for arg in typing.get_args(annotation)} or {
        getattr(annotation, "__name__", str(annotation))
    }
    names.discard("NoneType")
    return " or ".join(sorted(names)).replace("str", "string").replace("int", "integer").replace("bool", "boolean")


def _is_log_retention(field: FieldInfo) -> bool:
    return "retention in days" in (field.description or "").lower()


def _accepts_auto(field: FieldInfo) -> bool:
    return any("auto" in json.dumps(schema) for schema in _schema_overrides(field))


def _literal_values(annotation: Any) -> list[str]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(candidate) is Literal:
            return [str(value) for value in typing.get_args(candidate)]
    return []


def _format_default(default: Any, kind: str) -> str:
    if default is None:
        return "-"
    if isinstance(default, BaseModel) or (isinstance(default, dict) and not default):
        return "see below" if isinstance(default, BaseModel) else "none"
    if kind == "duration" and isinstance(default, int):
        return f"`{_duration_text(default)}`"
    return f"`{json.dumps(default)}`"


def _duration_text(seconds: int) -> str:
    """Format seconds as the config writes them: ``4d``, ``15m``, ``30s``."""
    text = format_duration(seconds)
    number, unit = text.split(" ")
    return number.replace(",", "") + {"d": "d", "h": "h", "min": "m", "s": "s"}[unit]


def _annotate(property_schema: dict[str, Any], key: str | None, field: FieldInfo) -> None:
    limit = SETTING_LIMITS.get(key or "")
    if _kind(field) == "duration" and isinstance(property_schema.get("default"), int):
        property_schema["default"] = _duration_text(property_schema["default"])
    if limit is None:
        return
    if property_schema.get("type") == "integer":
        property_schema["minimum"] = limit.minimum
        property_schema["maximum"] = limit.maximum
    property_schema["description"] = f"{property_schema.get('description', '')} Allowed: {limit.describe()}.".strip()


__all__ = ["config_reference", "config_schema"]
