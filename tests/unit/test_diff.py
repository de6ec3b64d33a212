"""``sqs-kit diff`` on small hand-written templates, and once on the committed configs against their snapshots."""

import argparse
import copy
import io
from pathlib import Path
from typing import Any

import pytest

from sqs_kit.local.diff import (
    EXIT_ERROR,
    EXIT_UNCHANGED,
    TemplateDiff,
    compare_templates,
    format_diff,
    print_report,
    run_diff,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = Path("snapshot.json")


def base_template() -> dict[str, Any]:
    return {
        "Resources": {
            "OrdersQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"QueueName": "orders", "VisibilityTimeout": 180},
                "DeletionPolicy": "Delete",
            },
            "ConsumerPolicy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [
                            {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": "*"},
                            {"Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Effect": "Allow", "Resource": "*"},
                        ]
                    }
                },
            },
        },
        "Outputs": {"OrdersQueueUrl": {"Value": {"Ref": "OrdersQueue"}}},
    }


def diff_of(new: dict[str, Any]) -> TemplateDiff:
    return compare_templates("dev", SNAPSHOT, base_template(), new)


def test_diff_no_change_reports_nothing() -> None:
    diff = diff_of(base_template())

    assert not diff.changed
    assert format_diff(diff) == []


def test_diff_property_change_shows_path_and_values() -> None:
    new = base_template()
    new["Resources"]["OrdersQueue"]["Properties"]["VisibilityTimeout"] = 300

    lines = format_diff(diff_of(new))

    assert "  OrdersQueue (AWS::SQS::Queue) changed" in lines
    assert "    Properties.VisibilityTimeout: 180 -> 300" in lines
    assert "-- Other changes" in lines
    assert not any(line.startswith("-- Replacements") for line in lines)


def test_diff_queue_name_change_is_replacement() -> None:
    new = base_template()
    new["Resources"]["OrdersQueue"]["Properties"]["QueueName"] = "orders-v2"

    diff = diff_of(new)
    lines = format_diff(diff)

    (change,) = diff.resources
    assert change.replacement_paths == ["Properties.QueueName"]
    replacements = lines.index("-- Replacements and deletions (the resource is deleted; a queue loses its messages)")
    assert lines[replacements + 1] == (
        "  OrdersQueue (AWS::SQS::Queue) changed; replaced because of Properties.QueueName"
    )
    assert '    Properties.QueueName: "orders" -> "orders-v2"' in lines


def test_diff_fifo_flag_change_is_replacement() -> None:
    new = base_template()
    new["Resources"]["OrdersQueue"]["Properties"]["FifoQueue"] = True

    (change,) = diff_of(new).resources

    assert change.replaces
    assert change.replacement_paths == ["Properties.FifoQueue"]


def test_diff_iam_action_change_listed_first() -> None:
    new = base_template()
    new["Resources"]["OrdersQueue"]["Properties"]["VisibilityTimeout"] = 300
    new["Resources"]["ConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"][1]["Action"] = ["sqs:*"]

    lines = format_diff(diff_of(new))

    assert lines[1] == "-- IAM and policy changes (review first)"
    assert lines[2] == "  ConsumerPolicy (AWS::IAM::Policy) changed"
    assert (
        '    Properties.PolicyDocument.Statement[1].Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage"] -> ["sqs:*"]'
        in lines
    )
    assert lines.index("-- IAM and policy changes (review first)") < lines.index("-- Other changes")


def test_diff_queue_policy_counts_as_iam() -> None:
    old = base_template()
    old["Resources"]["OrdersQueuePolicy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"PolicyDocument": {"Statement": [{"Effect": "Deny"}]}},
    }
    new = copy.deepcopy(old)
    new["Resources"]["OrdersQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Effect"] = "Allow"

    (change,) = compare_templates("dev", SNAPSHOT, old, new).resources

    assert change.touches_iam


def test_diff_added_and_removed_resources() -> None:
    new = base_template()
    del new["Resources"]["OrdersQueue"]
    new["Resources"]["OrdersParameter"] = {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "/x"}}

    diff = diff_of(new)
    lines = format_diff(diff)

    kinds = {change.logical_id: change.kind for change in diff.resources}
    assert kinds["OrdersQueue"] == "removed"
    assert kinds["OrdersParameter"] == "added"
    # A removed queue is deleted with its messages, so it is listed with the replacements.
    assert "  OrdersQueue (AWS::SQS::Queue) removed" in lines
    assert "  OrdersParameter (AWS::SSM::Parameter) added" in lines


def test_diff_output_change_reported() -> None:
    new = base_template()
    new["Outputs"]["OrdersQueueUrl"]["Value"] = {"Ref": "Other"}

    (change,) = diff_of(new).resources

    assert change.logical_id == "Template"
    assert [item.path for item in change.changes] == ["Outputs.OrdersQueueUrl.Value.Ref"]


def test_report_summary_names_update_command() -> None:
    new = base_template()
    new["Resources"]["OrdersQueue"]["Properties"]["VisibilityTimeout"] = 300
    stream = io.StringIO()

    print_report([diff_of(new)], stream)

    assert stream.getvalue().splitlines()[-1] == (
        "Templates changed (dev: 1 changed). Review the changes above, then run `make snapshots` and commit them."
    )


def test_run_diff_unknown_env_is_error() -> None:
    args = argparse.Namespace(app_dir=REPO_ROOT, env=["staging-does-not-exist"], update=False)

    assert run_diff(args) == EXIT_ERROR


def test_committed_snapshots_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(app_dir=REPO_ROOT, env=[], update=False)

    code = run_diff(args)

    output = capsys.readouterr().out
    assert code == EXIT_UNCHANGED, output
    assert output.strip() == "No template changes in dev, mixed, prod."


def test_run_diff_folder_without_app_is_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    args = argparse.Namespace(app_dir=tmp_path, env=[], update=False)

    assert run_diff(args) == EXIT_ERROR
    assert f"No app.py in {tmp_path}" in caplog.text
