"""FIFO pairing rules, user-given dead-letter queues, imported queues and cross-stack references."""

from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from sqs_kit import ConsumerFunction, ImportedQueue, KitQueue, SettingsError
from stacks.messaging_stack import parameter_name
from tests.synth.helpers import minimal_handler_dir, resources_of_type


@pytest.fixture(scope="module")
def handler_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return minimal_handler_dir(tmp_path_factory.mktemp("code"))


def new_stack() -> Stack:
    return Stack(App(), "Test")


def test_fifo_source_standard_dlq_fails() -> None:
    stack = new_stack()
    dlq = sqs.Queue(stack, "Dlq", queue_name="orders-dlq")
    with pytest.raises(SettingsError) as raised:
        KitQueue(
            stack,
            "Orders",
            removal_policy=RemovalPolicy.DESTROY,
            fifo=True,
            queue_name="orders.fifo",
            dead_letter_queue=dlq,
        )
    message = str(raised.value)
    assert "must be the same type as its source queue" in message
    assert "'orders.fifo' is FIFO" in message
    assert "'orders-dlq' is standard" in message


def test_standard_source_fifo_dlq_fails() -> None:
    stack = new_stack()
    dlq = sqs.Queue(stack, "Dlq", queue_name="orders-dlq.fifo", fifo=True)
    with pytest.raises(SettingsError) as raised:
        KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY, queue_name="orders", dead_letter_queue=dlq)
    message = str(raised.value)
    assert "'orders' is standard" in message
    assert "'orders-dlq.fifo' is FIFO" in message


def test_given_dlq_used_for_redrive() -> None:
    stack = new_stack()
    dlq = sqs.Queue(stack, "Dlq", queue_name="orders-dlq")
    KitQueue(stack, "Orders", removal_policy=RemovalPolicy.DESTROY, dead_letter_queue=dlq)
    queues = resources_of_type(Template.from_stack(stack), "AWS::SQS::Queue")
    assert len(queues) == 2
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    dlq_id = next(key for key, q in queues.items() if "RedrivePolicy" not in q["Properties"])
    assert main["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}


@pytest.mark.parametrize(
    ("scope", "limit", "expected_setting"),
    [
        (sqs.DeduplicationScope.MESSAGE_GROUP, None, "deduplication_scope"),
        (None, sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID, "fifo_throughput_limit"),
        (sqs.DeduplicationScope.MESSAGE_GROUP, sqs.FifoThroughputLimit.PER_QUEUE, "deduplication_scope"),
    ],
    ids=["scope-only", "limit-only", "scope-with-per-queue"],
)
def test_high_throughput_needs_both(
    scope: sqs.DeduplicationScope | None, limit: sqs.FifoThroughputLimit | None, expected_setting: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(
            new_stack(),
            "Orders",
            removal_policy=RemovalPolicy.DESTROY,
            fifo=True,
            deduplication_scope=scope,
            fifo_throughput_limit=limit,
        )
    problems = raised.value.problems
    assert len(problems) == 1
    assert problems[0].setting == expected_setting
    assert "high-throughput FIFO needs" in problems[0].rule


def test_high_throughput_pair_accepted() -> None:
    stack = new_stack()
    KitQueue(
        stack,
        "Orders",
        removal_policy=RemovalPolicy.DESTROY,
        fifo=True,
        deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
        fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::SQS::Queue", {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}
    )


def test_fifo_settings_on_standard_fail() -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(
            new_stack(),
            "Orders",
            removal_policy=RemovalPolicy.DESTROY,
            content_based_deduplication=True,
            deduplication_scope=sqs.DeduplicationScope.QUEUE,
        )
    settings = [problem.setting for problem in raised.value.problems]
    assert settings == ["content_based_deduplication", "deduplication_scope"]
    assert all(problem.rule == "applies only to FIFO queues" for problem in raised.value.problems)


def test_imported_token_arn_needs_fifo() -> None:
    stack = new_stack()
    with pytest.raises(SettingsError, match="the ARN is a token"):
        ImportedQueue(stack, "Shared", queue_arn=Token.as_string({"Ref": "QueueArn"}))


def test_imported_fifo_contradicts_name() -> None:
    with pytest.raises(SettingsError, match=r"contradicts the queue name 'events\.fifo'"):
        ImportedQueue(new_stack(), "Shared", queue_arn="arn:aws:sqs:us-east-1:123456789012:events.fifo", fifo=False)


def test_imported_invalid_arn() -> None:
    with pytest.raises(SettingsError, match="is not an SQS queue ARN"):
        ImportedQueue(new_stack(), "Shared", queue_arn="arn:aws:sns:us-east-1:123456789012:events")


def test_imported_fifo_from_name(handler_dir: Path) -> None:
    stack = new_stack()
    queue = ImportedQueue(stack, "Shared", queue_arn="arn:aws:sqs:us-east-1:123456789012:events.fifo")
    assert queue.fifo is True
    with pytest.raises(SettingsError, match="batching window is not supported for FIFO queues"):
        ConsumerFunction(stack, "Consumer", queue=queue, code_path=handler_dir, max_batching_window=Duration.seconds(5))


def test_imported_key_gets_decrypt(handler_dir: Path) -> None:
    stack = new_stack()
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    queue = ImportedQueue(
        stack,
        "Shared",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:events",
        encryption_key_arn=key_arn,
        visibility_timeout=Duration.seconds(180),
    )
    ConsumerFunction(stack, "Consumer", queue=queue, code_path=handler_dir)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with([{"Action": "kms:Decrypt", "Effect": "Allow", "Resource": key_arn}])
            }
        },
    )


def test_imported_visibility_checked(handler_dir: Path) -> None:
    stack = new_stack()
    queue = ImportedQueue(
        stack, "Shared", queue_arn="arn:aws:sqs:us-east-1:123456789012:events", visibility_timeout=Duration.seconds(20)
    )
    with pytest.raises(
        SettingsError, match=r"visibility timeout \(20 s\) is shorter than the consumer function timeout"
    ):
        ConsumerFunction(stack, "Consumer", queue=queue, code_path=handler_dir)


def test_imported_unknown_visibility_warns(handler_dir: Path) -> None:
    stack = new_stack()
    queue = ImportedQueue(stack, "Shared", queue_arn="arn:aws:sqs:us-east-1:123456789012:events")
    ConsumerFunction(stack, "Consumer", queue=queue, code_path=handler_dir)
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("not known at synth time"))
    assert len(warnings) == 1


def two_stack_app(handler_dir: Path, *, consumer_uses_queue: bool) -> tuple[dict, dict]:  # type: ignore[type-arg]
    app = App()
    queue_stack = Stack(app, "QueueStack")
    queue = KitQueue(queue_stack, "Orders", removal_policy=RemovalPolicy.DESTROY)
    from aws_cdk import aws_ssm as ssm  # noqa: PLC0415

    ssm.StringParameter(
        queue_stack,
        "OrdersArn",
        parameter_name=parameter_name("QueueStack", "orders", "arn"),
        string_value=queue.queue_arn,
    )
    consumer_stack = Stack(app, "ConsumerStack")
    if consumer_uses_queue:
        imported = ImportedQueue.from_parameter(
            consumer_stack,
            "Orders",
            arn_parameter_name=parameter_name("QueueStack", "orders", "arn"),
            fifo=False,
            visibility_timeout=Duration.seconds(180),
        )
        ConsumerFunction(consumer_stack, "Consumer", queue=imported, code_path=handler_dir)
    assembly = app.synth()
    return (
        assembly.get_stack_by_name("QueueStack").template,
        assembly.get_stack_by_name("ConsumerStack").template,
    )


def test_cross_stack_uses_no_exports(handler_dir: Path) -> None:
    queue_template, consumer_template = two_stack_app(handler_dir, consumer_uses_queue=True)
    assert "Fn::ImportValue" not in str(consumer_template)
    assert not any("Export" in output for output in queue_template.get("Outputs", {}).values())
    parameters = consumer_template["Parameters"]
    assert any(p["Type"] == "AWS::SSM::Parameter::Value<String>" for p in parameters.values())


def test_cross_stack_reference_removable(handler_dir: Path) -> None:
    before, _ = two_stack_app(handler_dir, consumer_uses_queue=True)
    after, consumer_after = two_stack_app(handler_dir, consumer_uses_queue=False)
    # Dropping the consumer changes nothing in the queue stack, so both can deploy in any order.
    assert before == after
    assert "Resources" not in consumer_after or not consumer_after["Resources"]


@pytest.mark.parametrize(
    "principal",
    ["*", "arn:aws:iam::*:root", "arn:aws:iam::111122223333:role/*", "1111222233"],
    ids=["star", "any-account", "any-role", "short-account"],
)
def test_cross_account_principal_rejected(principal: str) -> None:
    with pytest.raises(SettingsError) as raised:
        KitQueue(new_stack(), "Orders", removal_policy=RemovalPolicy.DESTROY, cross_account_send_principals=[principal])
    problems = raised.value.problems
    assert len(problems) == 1
    assert problems[0].setting == "cross_account_send_principals"
    assert problems[0].value == principal


def test_cross_account_key_through_sqs_only() -> None:
    stack = new_stack()
    KitQueue(
        stack,
        "Orders",
        removal_policy=RemovalPolicy.DESTROY,
        encryption=sqs.QueueEncryption.KMS,
        cross_account_send_principals=["arn:aws:iam::111122223333:role/sender"],
    )
    keys = resources_of_type(Template.from_stack(stack), "AWS::KMS::Key")
    statements = next(iter(keys.values()))["Properties"]["KeyPolicy"]["Statement"]
    external = [s for s in statements if s.get("Sid") == "CrossAccountSendThroughSqs"]
    assert len(external) == 1
    assert external[0]["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/sender"}
    assert set(external[0]["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert "kms:ViaService" in external[0]["Condition"]["StringEquals"]


def test_organization_without_principals_fails() -> None:
    with pytest.raises(SettingsError, match="no principals are given"):
        KitQueue(
            new_stack(), "Orders", removal_policy=RemovalPolicy.DESTROY, cross_account_organization_id="o-abcdefghij"
        )
