"""Targeted checks of the dev environment's template."""

from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from tests.synth.helpers import actions_of, only_resource, policy_statements, resources_of_type, synth_env

# X-Ray supports no resource-level permissions for these actions, so they are the only ones on "*".
XRAY_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})


@pytest.fixture(scope="module")
def synthesized() -> tuple[Template, Stack]:
    return synth_env("dev")


@pytest.fixture(scope="module")
def template(synthesized: tuple[Template, Stack]) -> Template:
    return synthesized[0]


def queues(template: Template) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    """Return (logical id, properties) of the orders queue and of its dead-letter queue."""
    main_id, main = only_resource(template, "AWS::SQS::Queue", MessageRetentionPeriod=345600)
    dlq_id, dlq = only_resource(template, "AWS::SQS::Queue", MessageRetentionPeriod=1209600)
    return (main_id, main["Properties"]), (dlq_id, dlq["Properties"])


def test_queue_settings(template: Template) -> None:
    (_, main), _ = queues(template)
    assert main["MessageRetentionPeriod"] == 345600
    assert main["DelaySeconds"] == 0
    assert main["ReceiveMessageWaitTimeSeconds"] == 20
    assert main["MaximumMessageSize"] == 1048576
    assert main["SqsManagedSseEnabled"] is True
    assert "FifoQueue" not in main


def test_visibility_timeout_derived(template: Template) -> None:
    (_, main), _ = queues(template)
    # Six times the consumer's 30 s timeout, with no batching window.
    assert main["VisibilityTimeout"] == 180


def test_redrive_policy(template: Template) -> None:
    (_, main), (dlq_id, _) = queues(template)
    assert main["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}, "maxReceiveCount": 5}


def test_dead_letter_retention_longer(template: Template) -> None:
    (_, main), (_, dlq) = queues(template)
    assert dlq["MessageRetentionPeriod"] == 1209600
    assert dlq["MessageRetentionPeriod"] > main["MessageRetentionPeriod"]
    assert dlq["SqsManagedSseEnabled"] is True


def test_redrive_allow_policy_names_source(template: Template) -> None:
    (_, main), (_, dlq) = queues(template)
    allow = dlq["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    assert len(allow["sourceQueueArns"]) == 1
    arn_parts = allow["sourceQueueArns"][0]["Fn::Join"][1]
    assert arn_parts[-1] == f":{main['QueueName']}"


def test_tls_deny_on_both_queues(template: Template) -> None:
    (main_id, _), (dlq_id, _) = queues(template)
    policies = resources_of_type(template, "AWS::SQS::QueuePolicy")
    protected = set()
    for policy in policies.values():
        statement = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement == [
            {
                "Action": "sqs:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Resource": statement[0]["Resource"],
            }
        ]
        protected.update(queue["Ref"] for queue in policy["Properties"]["Queues"])
    assert protected == {main_id, dlq_id}


def test_removal_policy_destroy(template: Template) -> None:
    for resource_type in ("AWS::SQS::Queue", "AWS::Logs::LogGroup"):
        resources = resources_of_type(template, resource_type)
        assert len(resources) == 2, resource_type
        for logical_id, resource in resources.items():
            assert resource["DeletionPolicy"] == "Delete", logical_id
            assert resource["UpdateReplacePolicy"] == "Delete", logical_id


def test_event_source_mapping(template: Template) -> None:
    (main_id, _), _ = queues(template)
    _, mapping = only_resource(template, "AWS::Lambda::EventSourceMapping")
    properties = mapping["Properties"]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [main_id, "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert properties["ScalingConfig"] == {"MaximumConcurrency": 10}
    assert "MaximumBatchingWindowInSeconds" not in properties


def test_functions_arm64_current_python(template: Template) -> None:
    functions = resources_of_type(template, "AWS::Lambda::Function")
    assert len(functions) == 2
    for logical_id, function in functions.items():
        assert function["Properties"]["Architectures"] == ["arm64"], logical_id
        assert function["Properties"]["Runtime"] == "python3.14", logical_id
        log_group_ref = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_group_ref in resources_of_type(template, "AWS::Logs::LogGroup"), logical_id


def test_log_groups_have_retention(template: Template) -> None:
    log_groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert len(log_groups) == 2
    for logical_id, log_group in log_groups.items():
        assert log_group["Properties"]["RetentionInDays"] == 7, logical_id


def test_producer_environment(template: Template) -> None:
    (main_id, _), _ = queues(template)
    _, producer = only_resource(template, "AWS::Lambda::Function", Handler="handler.handler", Timeout=10)
    variables = producer["Properties"]["Environment"]["Variables"]
    assert variables["QUEUE_URL"] == {"Ref": main_id}
    assert variables["QUEUE_FIFO"] == "false"
    assert variables["MAX_MESSAGE_SIZE_BYTES"] == "1048576"


def test_producer_role_exact_permissions(template: Template) -> None:
    (main_id, _), _ = queues(template)
    statements = policy_statements(template, "OrdersProducerRole")
    by_actions = {frozenset(actions_of(statement)): statement for statement in statements}
    assert set(by_actions) == {
        frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}),
        XRAY_ACTIONS,
        frozenset({"sqs:SendMessage"}),
    }
    assert by_actions[frozenset({"sqs:SendMessage"})]["Resource"] == {"Fn::GetAtt": [main_id, "Arn"]}
    assert by_actions[XRAY_ACTIONS]["Resource"] == "*"
    log_resource = by_actions[frozenset({"logs:CreateLogStream", "logs:PutLogEvents"})]["Resource"]
    assert log_resource["Fn::GetAtt"][0].startswith("OrdersProducerLogGroup")


def test_consumer_role_exact_permissions(template: Template) -> None:
    (main_id, _), _ = queues(template)
    statements = policy_statements(template, "OrdersConsumerRole")
    by_actions = {frozenset(actions_of(statement)): statement for statement in statements}
    consume = frozenset(
        {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
    )
    assert set(by_actions) == {frozenset({"logs:CreateLogStream", "logs:PutLogEvents"}), XRAY_ACTIONS, consume}
    assert by_actions[consume]["Resource"] == {"Fn::GetAtt": [main_id, "Arn"]}


def test_wildcard_resource_only_for_xray(template: Template) -> None:
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                assert actions_of(statement) == XRAY_ACTIONS, statement


def test_functions_trace_actively(template: Template) -> None:
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, logical_id


def test_roles_trust_only_lambda(template: Template) -> None:
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert len(roles) == 2
    for logical_id, role in roles.items():
        assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
        ], logical_id


def test_roles_have_no_managed_policies(template: Template) -> None:
    for logical_id, role in resources_of_type(template, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


def test_no_wildcard_actions(template: Template) -> None:
    policies = resources_of_type(template, "AWS::IAM::Policy")
    assert len(policies) == 2
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert not any(action.endswith("*") for action in actions_of(statement)), statement


def test_outputs_give_queue_url_and_arn(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    assert {"OrdersQueueUrl", "OrdersQueueArn", "OrdersDeadLetterQueueUrl"} <= set(outputs)
    assert not any("Export" in output for output in outputs.values())


def test_assets_bundle_powertools(synthesized: tuple[Template, Stack]) -> None:
    template, stack = synthesized
    app = stack.node.root
    assert isinstance(app, App)
    for logical_id, function in resources_of_type(template, "AWS::Lambda::Function").items():
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        asset_dir = Path(app.outdir) / f"asset.{asset_hash}"
        assert (asset_dir / "handler.py").is_file(), logical_id
        assert (asset_dir / "aws_lambda_powertools" / "__init__.py").is_file(), logical_id
        assert not list(asset_dir.rglob("__pycache__")), logical_id
