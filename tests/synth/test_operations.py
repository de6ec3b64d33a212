"""Alarms, their topic, the dashboard and the redrive policy in the dev and prod templates."""

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.synth.helpers import actions_of, only_resource, resources_of_type, synth_config, synth_env


@pytest.fixture(scope="module", params=["dev", "prod"])
def template(request: pytest.FixtureRequest) -> Template:
    return synth_env(request.param)[0]


def alarms_by_metric(template: Template) -> dict[str, dict[str, Any]]:
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    return {alarm["Properties"]["MetricName"]: alarm["Properties"] for alarm in alarms}


def topic_id(template: Template) -> str:
    logical_id, _ = only_resource(template, "AWS::SNS::Topic")
    return logical_id


def test_four_alarms_per_queue(template: Template) -> None:
    assert set(alarms_by_metric(template)) == {
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Errors",
        "Throttles",
    }


def test_dead_letter_alarm_on_dlq(template: Template) -> None:
    alarm = alarms_by_metric(template)["ApproximateNumberOfMessagesVisible"]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Statistic"] == "Maximum"
    queue_name = alarm["Dimensions"][0]["Value"]
    dlq_id = queue_name["Fn::GetAtt"][0]
    dlq = template.to_json()["Resources"][dlq_id]["Properties"]
    assert "RedriveAllowPolicy" in dlq


def test_oldest_age_half_retention(template: Template) -> None:
    main = [q for q in resources_of_type(template, "AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]]
    retention = main[0]["Properties"]["MessageRetentionPeriod"]
    alarm = alarms_by_metric(template)["ApproximateAgeOfOldestMessage"]
    assert alarm["Threshold"] == retention // 2


def test_consumer_alarms_on_function(template: Template) -> None:
    for metric in ("Errors", "Throttles"):
        alarm = alarms_by_metric(template)[metric]
        assert alarm["Namespace"] == "AWS/Lambda"
        assert alarm["Statistic"] == "Sum"
        assert alarm["Period"] == 300
        assert alarm["Threshold"] == 1
        function_ref = alarm["Dimensions"][0]["Value"]["Ref"]
        assert function_ref.startswith("OrdersConsumerFunction")


def test_alarms_notify_topic(template: Template) -> None:
    topic = topic_id(template)
    for metric, alarm in alarms_by_metric(template).items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], metric
        assert alarm["TreatMissingData"] == "notBreaching", metric


def test_topic_encrypted_tls_only(template: Template) -> None:
    _, topic = only_resource(template, "AWS::SNS::Topic")
    key_ref = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = template.to_json()["Resources"][key_ref]
    assert key["Properties"]["EnableKeyRotation"] is True
    _, policy = only_resource(template, "AWS::SNS::TopicPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allow = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow[0]["Action"] == "sns:Publish"


def test_dashboard_covers_queue_and_consumer(template: Template) -> None:
    _, dashboard = only_resource(template, "AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateAgeOfOldestMessage",
        "Invocations",
        "Errors",
        "Duration",
        "ConcurrentExecutions",
    ):
        assert metric in body, metric


def test_redrive_policy_exact(template: Template) -> None:
    _, policy = only_resource(template, "AWS::IAM::ManagedPolicy")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_actions = {frozenset(actions_of(statement)): statement["Resource"] for statement in statements}
    dead_letter = frozenset(
        {
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:StartMessageMoveTask",
            "sqs:ListMessageMoveTasks",
            "sqs:CancelMessageMoveTask",
        }
    )
    source = frozenset({"sqs:SendMessage", "sqs:GetQueueAttributes"})
    assert dead_letter in by_actions
    assert source in by_actions
    assert by_actions[dead_letter]["Fn::GetAtt"][0].startswith("OrdersDeadLetterQueue")
    assert by_actions[source]["Fn::GetAtt"][0].startswith("Orders")
    assert "*" not in json.dumps(statements)


def test_alarm_options_from_config(tmp_path: Path) -> None:
    config = tmp_path / "ops.yaml"
    config.write_text(
        "removal_policy: destroy\n"
        "alarms: {topic_arn: 'arn:aws:sns:us-east-1:123456789012:pager'}\n"
        "queues:\n"
        "  quiet: {alarms: {enabled: false}}\n"
        "  loud:\n"
        "    retention: 1d\n"
        "    alarms: {oldest_message_age: 10m}\n"
    )
    template = synth_config(config)[0]
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    # Only "loud" has alarms, and without a consumer only the two queue alarms.
    assert len(alarms) == 2
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == ["arn:aws:sns:us-east-1:123456789012:pager"]
    age = alarms_by_metric(template)["ApproximateAgeOfOldestMessage"]
    assert age["Threshold"] == 600
    assert resources_of_type(template, "AWS::SNS::Topic") == {}
