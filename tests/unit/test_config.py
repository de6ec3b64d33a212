"""Config files: every rule at its boundary, and how errors are reported."""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from sqs_kit import SettingsError
from sqs_kit.config import load_settings, parse_duration, validate_settings

BASE: dict[str, Any] = {
    "removal_policy": "destroy",
    "queues": {
        "orders": {
            "retention": "4d",
            "dead_letter": {"max_receive_count": 5, "retention": "14d"},
            "producer": {"timeout": "10s", "memory_mb": 256},
            "consumer": {
                "timeout": "30s",
                "memory_mb": 256,
                "batch_size": 10,
                "batching_window": "0s",
                "max_concurrency": 10,
            },
        }
    },
}


def with_setting(path: str, value: object, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a copy of the base config with one dotted key under queues.orders set."""
    document = copy.deepcopy(base or BASE)
    node = document["queues"]["orders"]
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return document


def problems_of(document: dict[str, Any]) -> list[str]:
    try:
        validate_settings(document, source="test.yaml")
    except SettingsError as error:
        return [str(problem) for problem in error.problems]
    return []


# Each case: key under queues.orders, the last valid value, the first invalid value.
BOUNDARIES = [
    ("retention", "60s", "59s"),
    ("retention", "14d", "1209601s"),
    ("visibility_timeout", "12h", "43201s"),
    ("delivery_delay", "15m", "901s"),
    ("receive_wait", "20s", "21s"),
    ("receive_wait", "0s", "-1s"),
    ("max_message_size_bytes", 1024, 1023),
    ("max_message_size_bytes", 1048576, 1048577),
    ("dead_letter.max_receive_count", 1, 0),
    ("dead_letter.max_receive_count", 1000, 1001),
    ("dead_letter.retention", "14d", "15d"),
    ("producer.timeout", "1s", "0s"),
    ("producer.timeout", "15m", "901s"),
    ("producer.memory_mb", 128, 127),
    ("producer.memory_mb", 10240, 10241),
    ("consumer.memory_mb", 10240, 10241),
    ("consumer.batching_window", "300s", "301s"),
    ("consumer.max_concurrency", 2, 1),
    ("consumer.max_concurrency", 1000, 1001),
    ("consumer.batch_size", 1, 0),
    ("consumer.log_retention_days", 7, 8),
]


@pytest.mark.parametrize(("key", "valid", "invalid"), BOUNDARIES, ids=[f"{c[0]}-{c[2]}" for c in BOUNDARIES])
def test_boundary(key: str, valid: object, invalid: object) -> None:
    document = with_setting(key, valid)
    if key == "retention" and valid == "14d":
        # The DLQ must outlive a standard source queue; 14 days is the ceiling for both.
        document["queues"]["orders"]["dead_letter"]["retention"] = "14d"
    assert problems_of(document) == [], f"{key}={valid} should be valid"
    problems = problems_of(with_setting(key, invalid))
    assert len(problems) >= 1
    assert problems[0].startswith(f"queues.orders.{key}: "), problems


def test_batch_size_standard_max() -> None:
    valid = with_setting("consumer.batching_window", "1s", with_setting("consumer.batch_size", 10000))
    assert problems_of(valid) == []
    invalid = with_setting("consumer.batching_window", "1s", with_setting("consumer.batch_size", 10001))
    assert problems_of(invalid) == [
        "queues.orders.consumer.batch_size: 10001 is invalid: allowed range is 1 to 10,000. "
        "Set a value within that range."
    ]


def test_batch_over_ten_needs_window() -> None:
    problems = problems_of(with_setting("consumer.batch_size", 11))
    assert len(problems) == 1
    assert "needs a batching window of at least 1 s" in problems[0]


def test_fifo_batch_size_max_ten() -> None:
    fifo = with_setting("fifo", True)
    assert problems_of(with_setting("consumer.batch_size", 10, fifo)) == []
    problems = problems_of(with_setting("consumer.batch_size", 11, fifo))
    assert problems == [
        "queues.orders.consumer.batch_size: 11 is invalid: allowed range is 1 to 10. Set a value within that range."
    ]


def test_visibility_shorter_than_timeout() -> None:
    problems = problems_of(with_setting("visibility_timeout", "29s"))
    assert len(problems) == 1
    assert problems[0].startswith("queues.orders.visibility_timeout: '29s' is invalid")
    assert "30 s" in problems[0]
    assert problems_of(with_setting("visibility_timeout", "30s")) == []


def test_dead_letter_retention_not_longer() -> None:
    document = with_setting("retention", "7d", with_setting("dead_letter.retention", "7d"))
    problems = problems_of(document)
    assert len(problems) == 1
    assert "must be longer than the source queue's retention (7 d (604,800 s))" in problems[0]
    assert problems_of(with_setting("dead_letter.retention", "8d", document)) == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30s", 30), ("15m", 900), ("12h", 43200), ("14d", 1209600), ("0s", 0)],
    ids=["seconds", "minutes", "hours", "days", "zero"],
)
def test_duration_units(value: str, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["4", 4, "4 days", "1.5h", "4w", True, None], ids=str)
def test_duration_without_unit_rejected(value: object) -> None:
    problems = problems_of(with_setting("retention", value))
    assert len(problems) == 1
    assert problems[0].startswith("queues.orders.retention: ")
    assert "unit: s, m, h or d" in problems[0]


def test_unknown_key_lists_allowed() -> None:
    problems = problems_of(with_setting("consumer.batchsize", 5))
    assert len(problems) == 1
    assert problems[0].startswith("queues.orders.consumer.batchsize: 5 is invalid: unknown key.")
    assert "batch_size" in problems[0]


def test_unknown_top_level_key() -> None:
    document = {**copy.deepcopy(BASE), "removal": "retain"}
    assert problems_of(document)[0].startswith("removal: 'retain' is invalid: unknown key.")


def test_invalid_enum_value() -> None:
    problems = problems_of(with_setting("encryption", "aes"))
    assert problems == [
        "queues.orders.encryption: 'aes' is invalid: must be 'sqs-managed', 'kms-managed' or 'kms'. Use one of those."
    ]


def test_missing_removal_policy() -> None:
    document = copy.deepcopy(BASE)
    del document["removal_policy"]
    assert problems_of(document) == ["removal_policy: missing is invalid: this key is required. Add it."]


def test_invalid_queue_key() -> None:
    document = copy.deepcopy(BASE)
    document["queues"]["Orders_1"] = document["queues"].pop("orders")
    problems = problems_of(document)
    assert len(problems) == 1
    assert "lower-case letters, digits and hyphens" in problems[0]


def test_every_error_reported_at_once() -> None:
    document = with_setting("retention", "4", with_setting("receive_wait", "21s"))
    document = with_setting("consumer.memory_mb", 64, document)
    document["queues"]["payments"] = {"delivery_delay": "16m", "dead_letter": {"max_receive_count": 0}}
    document["queues"]["refunds"] = {"colour": "blue"}
    document["removal_policy"] = "keep"
    settings = [problem.split(":")[0] for problem in problems_of(document)]
    assert settings == [
        "removal_policy",
        "queues.orders.retention",
        # A shape error in a queue does not hide the range errors of its other keys.
        "queues.orders.receive_wait",
        "queues.orders.consumer.memory_mb",
        "queues.payments.delivery_delay",
        "queues.payments.dead_letter.max_receive_count",
        "queues.refunds.colour",
    ]


def test_load_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(with_setting("retention", "4")))
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: 1 invalid setting:")
    assert "queues.orders.retention: '4' is invalid: a duration needs a unit" in message


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings(tmp_path / "absent.yaml")


def test_load_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("queues: [unclosed\n")
    with pytest.raises(SettingsError, match="is not valid YAML"):
        load_settings(path)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_shipped_configs_valid(env: str) -> None:
    settings = load_settings(Path(__file__).resolve().parents[2] / "config" / f"{env}.yaml")
    assert "orders" in settings.queues


def with_imported(settings: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    document["imported_queues"] = {"shared": settings}
    return document


def test_imported_queue_accepted() -> None:
    document = with_imported({"arn": "arn:aws:sqs:us-east-1:123456789012:shared.fifo", "visibility_timeout": "3m"})
    settings = validate_settings(document, source="test.yaml")
    assert settings.imported_queues["shared"].arn == "arn:aws:sqs:us-east-1:123456789012:shared.fifo"


def test_imported_needs_one_arn_source() -> None:
    assert problems_of(with_imported({})) == [
        "imported_queues.shared.arn: missing is invalid: give either arn or arn_parameter, but not both. "
        "Keep exactly one."
    ]


def test_imported_parameter_needs_fifo() -> None:
    problems = problems_of(with_imported({"arn_parameter": "/other/queues/shared/arn"}))
    assert len(problems) == 1
    assert problems[0].startswith("imported_queues.shared.fifo: missing is invalid")


def test_imported_fifo_consumer_window() -> None:
    document = with_imported(
        {
            "arn": "arn:aws:sqs:us-east-1:123456789012:shared.fifo",
            "consumer": {"timeout": "10s", "batching_window": "5s"},
        }
    )
    problems = problems_of(document)
    assert len(problems) == 1
    assert "batching window is not supported for FIFO queues" in problems[0]


def test_imported_key_clashes_with_queue() -> None:
    document = copy.deepcopy(BASE)
    document["imported_queues"] = {"orders": {"arn": "arn:aws:sqs:us-east-1:123456789012:orders"}}
    assert problems_of(document) == [
        "imported_queues.orders: 'orders' is invalid: is also a key under queues. Use unique logical names."
    ]


def test_duplicate_physical_names() -> None:
    document = with_setting("name", "orders")
    document["queues"]["copy"] = {"name": "orders"}
    problems = problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith(
        "queues.copy.name: 'orders' is invalid: gives the name 'orders' to queues.copy, which is also the name of "
        "queues.orders."
    )


def test_name_clashes_with_generated_dlq() -> None:
    document = with_setting("name", "foo-dlq")
    document["queues"]["foo"] = {"name": "foo"}
    problems = problems_of(document)
    assert len(problems) == 1
    assert "gives the name 'foo-dlq' to the DLQ of queues.foo, which is also the name of queues.orders" in problems[0]


def test_duplicate_yaml_key_rejected(tmp_path: Path) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text("removal_policy: destroy\nqueues:\n  orders: {}\n  orders: {retention: 1d}\n")
    with pytest.raises(SettingsError, match="found the key 'orders' twice in one mapping") as raised:
        load_settings(path)
    assert str(path) in str(raised.value.problems[0])


def test_empty_queues_rejected() -> None:
    document = {"removal_policy": "destroy", "queues": {}}
    assert problems_of(document) == [
        "queues: {} is invalid: at least one queue is required. Add a queue under 'queues:'."
    ]


@pytest.mark.parametrize("name", ["bad stack!", "1starts-with-digit", "under_score", "x" * 129], ids=str)
def test_invalid_stack_name(name: str) -> None:
    document = {**copy.deepcopy(BASE), "stack_name": name}
    problems = problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith(f"stack_name: {name!r} is invalid: a stack name starts with a letter")


@pytest.mark.parametrize(
    ("alarms", "setting"),
    [
        ({"topic_arn": "nope"}, "alarms.topic_arn"),
        ({"email": "not-an-email"}, "alarms.email"),
        ({"topic_arn": "arn:aws:sns:us-east-1:123456789012:pager", "email": "ops@example.com"}, "alarms.email"),
    ],
    ids=["topic-arn", "email", "both"],
)
def test_invalid_alarm_target(alarms: dict[str, str], setting: str) -> None:
    problems = problems_of({**copy.deepcopy(BASE), "alarms": alarms})
    assert len(problems) == 1
    assert problems[0].startswith(f"{setting}: ")


def test_oldest_age_beyond_retention() -> None:
    document = with_setting("retention", "1h", with_setting("alarms", {"oldest_message_age": "2h"}))
    problems = problems_of(document)
    assert problems == [
        "queues.orders.alarms.oldest_message_age: '2h' is invalid: allowed range is 1 min (60 s) to 1 h (3,600 s). "
        "Set a value within that range."
    ]


def test_top_level_log_retention_once() -> None:
    problems = problems_of({**copy.deepcopy(BASE), "log_retention_days": 8})
    assert len(problems) == 1
    assert problems[0].startswith("log_retention_days: 8 is invalid: CloudWatch Logs accepts only")


def test_cross_account_wildcard_rejected() -> None:
    problems = problems_of(with_setting("cross_account_producers", {"principals": ["*"]}))
    assert len(problems) == 1
    assert problems[0].startswith("queues.orders.cross_account_producers.principals: '*' is invalid: wildcard")


def test_fifo_settings_in_config() -> None:
    document = with_setting("fifo", True, with_setting("deduplication_scope", "message-group"))
    problems = problems_of(document)
    assert len(problems) == 1
    assert problems[0].startswith("queues.orders.deduplication_scope: 'message-group' is invalid: high-throughput")
    document = with_setting("fifo_throughput_limit", "per-message-group-id", document)
    assert problems_of(document) == []


def test_file_errors_in_line_order(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "queues:\n"
        "  orders:\n"
        "    consumer: {timeout: 120s}\n"
        "    visibility_timeout: 30s\n"
        "    retention: 4\n"
        "    colour: blue\n"
        "  refunds:\n"
        "    producer: {memory_mb: 1}\n"
    )
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    located = [(problem.line, problem.setting) for problem in raised.value.problems]
    assert located == [
        (4, "queues.orders.visibility_timeout"),
        (5, "queues.orders.retention"),
        (6, "queues.orders.colour"),
        (8, "queues.refunds.producer.memory_mb"),
        # Absent from the file, so it has no line and comes last.
        (None, "removal_policy"),
    ]
    assert "  - line 5: queues.orders.retention: 4 is invalid: a duration needs a unit" in str(raised.value)
    assert "  - removal_policy: missing is invalid: this key is required" in str(raised.value)


def test_missing_key_gets_section_line(tmp_path: Path) -> None:
    path = tmp_path / "no-arn.yaml"
    path.write_text("removal_policy: destroy\nimported_queues:\n  shared:\n    fifo: false\n")
    with pytest.raises(SettingsError) as raised:
        load_settings(path)
    problems = raised.value.problems
    assert len(problems) == 1
    assert problems[0].setting.startswith("imported_queues.shared")
    assert problems[0].line == 3
