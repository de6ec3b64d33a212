"""The constructs used from Python: validation, derived values and warnings, each on a small stack."""

import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from sqs_kit import ConsumerFunction, KitQueue, ProducerFunction, SettingsError
from stacks.app_builder import build_app
from tests.synth.helpers import minimal_handler_dir, resources_of_type, synth_config

QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")


@pytest.fixture(scope="module")
def handler_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return minimal_handler_dir(tmp_path_factory.mktemp("code"))


def new_stack(name: str = "Test") -> Stack:
    return Stack(App(), name)


def queue_properties(template: Template) -> list[dict[str, Any]]:
    return [resource["Properties"] for resource in resources_of_type(template, "AWS::SQS::Queue").values()]


def main_queue(template: Template) -> dict[str, Any]:
    mains = [properties for properties in queue_properties(template) if "RedrivePolicy" in properties]
    assert len(mains) == 1
    return mains[0]


def consumer_stack(handler_dir: Path, *, visibility: int | None, timeout: int, window: int = 0) -> Stack:
    stack = new_stack()
    queue = KitQueue(
        stack,
        "Orders",
        removal_policy=RemovalPolicy.DESTROY,
        visibility_timeout=Duration.seconds(visibility) if visibility is not None else None,
    )
    ConsumerFunction(
        stack,
        "Consumer",
        queue=queue,
        code_path=handler_dir,
        timeout=Duration.seconds(timeout),
        max_batching_window=Duration.seconds(window) if window else None,
    )
    return stack


def test_visibility_shorter_than_timeout_fails(handler_dir: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        consumer_stack(handler_dir, visibility=30, timeout=120)
    message = str(raised.value)
    assert "visibility timeout" in message
    assert "function timeout" in message
    assert "30 s" in message
    assert "120 s" in message


@pytest.mark.parametrize(("window", "expected"), [(0, 720), (20, 740)], ids=["no-window", "window-20s"])
def test_visibility_derived_six_times(handler_dir: Path, window: int, expected: int) -> None:
    template = Template.from_stack(consumer_stack(handler_dir, visibility=None, timeout=120, window=window))
    assert main_queue(template)["VisibilityTimeout"] == expected


def test_visibility_below_six_times_warns(handler_dir: Path) -> None:
    stack = consumer_stack(handler_dir, visibility=300, timeout=120)
    template = Template.from_stack(stack)
    assert main_queue(template)["VisibilityTimeout"] == 300
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("six times"))
    assert len(warnings) == 1


def test_visibility_equal_to_recommendation_quiet(handler_dir: Path) -> None:
    stack = consumer_stack(handler_dir, visibility=720, timeout=120)
    warnings = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    assert warnings == []


def test_queue_without_consumer_defaults_30s() -> None:
    stack = new_stack()
    KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    assert main_queue(Template.from_stack(stack))["VisibilityTimeout"] == 30


def test_standard_queue_has_standard_dlq() -> None:
    stack = new_stack()
    KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    for properties in queue_properties(Template.from_stack(stack)):
        assert "FifoQueue" not in properties
        assert not properties["QueueName"].endswith(".fifo")


def test_fifo_queue_has_fifo_dlq() -> None:
    stack = new_stack()
    KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY, fifo=True)
    names = set()
    for properties in queue_properties(Template.from_stack(stack)):
        assert properties["FifoQueue"] is True
        assert QUEUE_NAME.fullmatch(properties["QueueName"]), properties["QueueName"]
        names.add(properties["QueueName"])
    assert len(names) == 2


def test_long_fifo_names_fit() -> None:
    stack = Stack(App(), "S" * 100)
    KitQueue(stack, "Q" * 100, removal_policy=RemovalPolicy.DESTROY, fifo=True)
    names = [properties["QueueName"] for properties in queue_properties(Template.from_stack(stack))]
    assert len(set(names)) == 2
    for name in names:
        assert QUEUE_NAME.fullmatch(name), name


def test_fifo_name_without_suffix_fails() -> None:
    with pytest.raises(SettingsError, match=r"FIFO queue names must end in '\.fifo'"):
        KitQueue(new_stack(), "Orders", removal_policy=RemovalPolicy.DESTROY, fifo=True, queue_name="orders")


def test_default_retentions() -> None:
    stack = new_stack()
    KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    retentions = sorted(
        properties["MessageRetentionPeriod"] for properties in queue_properties(Template.from_stack(stack))
    )
    assert retentions == [345600, 1209600]


def test_dead_letter_retention_shorter_fails() -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(
            new_stack(),
            "Orders",
            removal_policy=RemovalPolicy.DESTROY,
            retention_period=Duration.days(7),
            dead_letter_retention_period=Duration.days(4),
        )
    message = str(raised.value)
    assert "dead_letter_retention_period" in message
    assert "345600" in message
    assert "604,800 s" in message


def test_dead_letter_retention_at_ceiling_warns() -> None:
    stack = new_stack()
    KitQueue(
        stack,
        "Orders",
        removal_policy=RemovalPolicy.DESTROY,
        retention_period=Duration.days(14),
        dead_letter_retention_period=Duration.days(14),
    )
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("retention equals"))
    assert len(warnings) == 1


def test_unencrypted_rejected() -> None:
    with pytest.raises(SettingsError, match="encrypted at rest"):
        KitQueue(
            new_stack(), "Orders", removal_policy=RemovalPolicy.DESTROY, encryption=sqs.QueueEncryption.UNENCRYPTED
        )


def test_all_queue_errors_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(
            new_stack(),
            "Orders",
            removal_policy=RemovalPolicy.DESTROY,
            retention_period=Duration.seconds(59),
            receive_message_wait_time=Duration.seconds(21),
            max_message_size_bytes=1023,
            max_receive_count=0,
        )
    settings = [problem.setting for problem in raised.value.problems]
    assert settings == ["retention_period", "receive_message_wait_time", "max_message_size_bytes", "max_receive_count"]
    assert "KitQueue at Test/Orders" in str(raised.value)


def consumer_error(handler_dir: Path, fifo: bool = False, **props: Any) -> str:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY, fifo=fifo)
    with pytest.raises(SettingsError) as raised:
        ConsumerFunction(stack, "Consumer", queue=queue, code_path=handler_dir, **props)
    return str(raised.value)


def test_batch_over_ten_needs_window(handler_dir: Path) -> None:
    message = consumer_error(handler_dir, batch_size=100)
    assert "batch_size: 100 is invalid" in message
    assert "batching window of at least 1 s" in message


def test_batch_over_ten_with_window(handler_dir: Path) -> None:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    ConsumerFunction(
        stack, "Consumer", queue=queue, code_path=handler_dir, batch_size=100, max_batching_window=Duration.seconds(5)
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"BatchSize": 100, "MaximumBatchingWindowInSeconds": 5}
    )
    assert main_queue(template)["VisibilityTimeout"] == 6 * 30 + 5


def test_fifo_batching_window_rejected(handler_dir: Path) -> None:
    message = consumer_error(handler_dir, fifo=True, max_batching_window=Duration.seconds(5))
    assert "batching window is not supported for FIFO queues" in message


def test_fifo_batch_size_over_ten(handler_dir: Path) -> None:
    message = consumer_error(handler_dir, fifo=True, batch_size=11)
    assert "batch_size: 11 is invalid: allowed range is 1 to 10" in message


def test_batching_window_over_300s(handler_dir: Path) -> None:
    message = consumer_error(handler_dir, max_batching_window=Duration.seconds(301))
    assert "max_batching_window: 301 s is invalid: allowed range is 0 s to 5 min (300 s)" in message


def test_producer_invalid_memory(handler_dir: Path) -> None:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    with pytest.raises(SettingsError, match="memory_size: 127 is invalid: allowed range is 128 MB to 10,240 MB"):
        ProducerFunction(stack, "Producer", queue=queue, code_path=handler_dir, memory_size=127)


def test_producer_only_sends(handler_dir: Path) -> None:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    ProducerFunction(stack, "Producer", queue=queue, code_path=handler_dir)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Action": "sqs:SendMessage"})])}},
    )
    text = str(template.to_json())
    assert "sqs:ReceiveMessage" not in text


def test_fractional_seconds_rejected(handler_dir: Path) -> None:
    message = consumer_error(handler_dir, timeout=Duration.millis(1500))
    assert "timeout: 1.5 s is invalid: must be a whole number" in message


def test_config_file_name_with_underscore(tmp_path: Path) -> None:
    config = tmp_path / "team_a.yaml"
    config.write_text("removal_policy: destroy\nqueues:\n  orders: {}\n")
    _, stack = synth_config(config)
    assert stack.stack_name == "sqs-kit-team-a"


@pytest.mark.parametrize(
    ("handler", "rule"),
    [
        ("nope.handler", "names module 'nope'"),
        ("handler", "must be MODULE.FUNCTION"),
        ("handler.main", "names function 'main', but .* defines no top-level name 'main'"),
    ],
    ids=["missing-module", "no-function", "missing-function"],
)
def test_handler_must_exist(handler_dir: Path, handler: str, rule: str) -> None:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    with pytest.raises(SettingsError, match=rule):
        ProducerFunction(stack, "Producer", queue=queue, code_path=handler_dir, handler=handler)


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"retention_period": 5}, "retention_period: 5 (int) is invalid: must be an aws_cdk.Duration"),
        ({"visibility_timeout": "30s"}, "visibility_timeout: '30s' (str) is invalid: must be an aws_cdk.Duration"),
        ({"max_receive_count": "5"}, "max_receive_count: '5' (str) is invalid: must be a number"),
        ({"max_receive_count": True}, "max_receive_count: True (bool) is invalid: must be a number"),
        ({"max_message_size_bytes": 2048.5}, "max_message_size_bytes: 2048.5 is invalid: must be a whole number"),
    ],
    ids=["retention-int", "visibility-str", "count-str", "count-bool", "size-fraction"],
)
def test_queue_prop_wrong_type(props: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(new_stack(), "Orders", removal_policy=RemovalPolicy.DESTROY, **props)
    assert expected in str(raised.value)
    assert len(raised.value.problems) == 1


def test_consumer_wrong_types_at_once(handler_dir: Path) -> None:
    stack = new_stack()
    with pytest.raises(SettingsError) as raised:
        ConsumerFunction(
            stack, "Consumer", queue="orders", code_path=handler_dir, timeout=30, batch_size="10", memory_size=256.5
        )  # type: ignore[arg-type]
    message = str(raised.value)
    settings = [problem.setting for problem in raised.value.problems]
    # Wrong types are found while the props are read, before any range rule runs.
    assert settings == ["queue", "timeout", "batch_size", "memory_size"]
    assert "queue: 'orders' (str) is invalid: must be a KitQueue or ImportedQueue" in message
    assert "timeout: 30 (int) is invalid: must be an aws_cdk.Duration" in message
    assert "memory_size: 256.5 is invalid: must be a whole number" in message
    assert "batch_size: '10' (str) is invalid: must be a number" in message


def test_producer_wrong_queue_type(handler_dir: Path) -> None:
    with pytest.raises(
        SettingsError, match=r"queue: None \(NoneType\) is invalid: must be a KitQueue or ImportedQueue"
    ):
        ProducerFunction(new_stack(), "Producer", queue=None, code_path=handler_dir)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"removal_policy": None}, "removal_policy: None (NoneType) is invalid: must be an aws_cdk.RemovalPolicy"),
        ({"fifo": "yes"}, "fifo: 'yes' (str) is invalid: must be True or False"),
        ({"dead_letter": "no"}, "dead_letter: 'no' (str) is invalid: must be True or False"),
        ({"encryption": "kms"}, "encryption: 'kms' (str) is invalid: must be an sqs.QueueEncryption"),
        ({"queue_name": 123}, "queue_name: 123 (int) is invalid: must be a str"),
        ({"dead_letter_queue": "x"}, "dead_letter_queue: 'x' (str) is invalid: must be an SQS queue"),
        (
            {"cross_account_send_principals": "111122223333"},
            "cross_account_send_principals: '111122223333' (str) is invalid: must be a list of strings",
        ),
        (
            {"cross_account_send_principals": [111122223333]},
            "cross_account_send_principals: 111122223333 (int) is invalid: must be a string",
        ),
    ],
    ids=[
        "removal-none",
        "fifo-str",
        "dead-letter-str",
        "encryption-str",
        "name-int",
        "dlq-str",
        "principals-str",
        "principal-int",
    ],
)
def test_queue_choice_wrong_type(props: dict[str, Any], expected: str) -> None:
    arguments: dict[str, Any] = {"removal_policy": RemovalPolicy.DESTROY, **props}
    with pytest.raises(SettingsError) as raised:
        KitQueue(new_stack(), "Orders", **arguments)
    assert expected in str(raised.value)
    assert len(raised.value.problems) == 1


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({"handler": None}, "handler: None (NoneType) is invalid: must be a str"),
        ({"code_path": None}, "code_path: None (NoneType) is invalid: must be a folder path"),
        (
            {"code_path": "/nonexistent/sqs-kit"},
            "code_path: /nonexistent/sqs-kit is invalid: must be an existing folder",
        ),
        ({"environment": {"A": 1}}, "environment: {'A': 1} (dict) is invalid: must be a dict of str to str"),
        ({"removal_policy": "retain"}, "removal_policy: 'retain' (str) is invalid: must be an aws_cdk.RemovalPolicy"),
    ],
    ids=["handler-none", "code-path-none", "code-path-missing", "environment-int", "removal-str"],
)
def test_function_prop_wrong_type(handler_dir: Path, props: dict[str, Any], expected: str) -> None:
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    arguments: dict[str, Any] = {"code_path": handler_dir, **props}
    for construct in (ProducerFunction, ConsumerFunction):
        with pytest.raises(SettingsError) as raised:
            construct(stack, construct.__name__, queue=queue, **arguments)
        assert expected in str(raised.value)
        assert len(raised.value.problems) == 1


@pytest.mark.parametrize("env", ["../config/dev", "dev/../prod", "dev.yaml"])
def test_env_must_be_a_name(env: str) -> None:
    with pytest.raises(SettingsError, match=r"env: '.*' is invalid: must be the name of a file in config/") as raised:
        build_app(App(context={"env": env}))
    assert raised.value.source == "-c env"


@pytest.mark.parametrize(
    "source",
    [
        "def main(event, context):\n    return None\n",
        "from shared import handle as main\n",
        "try:\n    main = object()\nexcept ImportError:\n    pass\n",
        "from shared import *\n",
        "def main(:\n",
    ],
    ids=["def", "import-as", "assigned-in-try", "star-import", "syntax-error"],
)
def test_handler_function_found(tmp_path: Path, source: str) -> None:
    (tmp_path / "app.py").write_text(source)
    stack = new_stack()
    queue = KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    ProducerFunction(stack, "Producer", queue=queue, code_path=tmp_path, handler="app.main")
    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 1)
