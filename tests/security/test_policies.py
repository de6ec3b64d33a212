"""The kit's own check for what no scanner flags: an Allow statement open to any principal."""

from typing import Any

import pytest

from tests.security.conftest import ENVIRONMENTS, Synthesized

POLICY_TYPES = {
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
}


def open_allow_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Return (logical id, statement) for every Allow statement in a queue or key policy whose principal is ``*``."""
    found = []
    for logical_id, resource in template["Resources"].items():
        for key in POLICY_TYPES.get(resource["Type"], ()):
            for statement in resource["Properties"][key]["Statement"]:
                principal = statement.get("Principal")
                aws = principal.get("AWS") if isinstance(principal, dict) else principal
                principals = aws if isinstance(aws, list) else [aws]
                if statement["Effect"] == "Allow" and "*" in principals:
                    found.append((logical_id, statement))
    return found


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_open_allow(assemblies: dict[str, Synthesized], env: str) -> None:
    assert open_allow_statements(assemblies[env].template) == []


def test_insecure_fixture_caught(assemblies: dict[str, Synthesized]) -> None:
    assert len(open_allow_statements(assemblies["insecure"].template)) == 1


def test_cross_account_send_over_tls(assemblies: dict[str, Synthesized]) -> None:
    template = assemblies["mixed"].template
    statements = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::SQS::QueuePolicy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
    ]
    assert len(statements) == 1
    statement = statements[0]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["Bool"] == {"aws:SecureTransport": "true"}
    assert statement["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": "o-exampleorg01"}
    principal = statement["Principal"]["AWS"]
    assert "111122223333" in str(principal)


def test_key_policy_lets_sqs_use_key(assemblies: dict[str, Synthesized]) -> None:
    keys = [
        resource
        for resource in assemblies["prod"].template["Resources"].values()
        if resource["Type"] == "AWS::KMS::Key" and "messages" in resource["Properties"]["Description"]
    ]
    assert len(keys) == 1
    statements = keys[0]["Properties"]["KeyPolicy"]["Statement"]
    sqs_statements = [s for s in statements if s.get("Principal") == {"Service": "sqs.amazonaws.com"}]
    assert len(sqs_statements) == 1
    assert set(sqs_statements[0]["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert "aws:SourceAccount" in sqs_statements[0]["Condition"]["StringEquals"]
