"""cdk-nag's AwsSolutions and Serverless packs run inside the app, as cdk-nag 3 does."""

from typing import Any

import pytest

from tests.security.conftest import ENVIRONMENTS, Synthesized

PACKS = {"AwsSolutions", "Serverless"}


def plugin_reports(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {report["pluginName"]: report for report in synthesized.report.get("pluginReports", [])}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_synth_passes_nag(assemblies: dict[str, Synthesized], env: str) -> None:
    synthesized = assemblies[env]
    assert synthesized.returncode == 0, synthesized.stderr[-3000:]
    reports = plugin_reports(synthesized)
    assert set(reports) >= PACKS, f"cdk-nag packs missing from the validation report: {set(reports)}"
    for pack in PACKS:
        assert reports[pack]["conclusion"] == "success", reports[pack]
        assert reports[pack]["violations"] == [], reports[pack]["violations"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_acknowledgements_scoped_with_reason(assemblies: dict[str, Synthesized], env: str) -> None:
    stack_name = f"sqs-kit-{env}"
    reports = plugin_reports(assemblies[env])
    assert any(report.get("suppressedViolations") for report in reports.values())
    for pack, report in reports.items():
        for suppressed in report.get("suppressedViolations", []):
            assert len(suppressed["reason"]) >= 60, suppressed
            # One construct below the stack, never the stack or the app.
            scope = suppressed["acknowledgedAt"]
            assert scope.startswith(f"{stack_name}/"), (pack, scope)
            assert scope.count("/") >= 2, (pack, scope)
            # One finding: the id names the rule, and IAM5 names the exact finding.
            assert suppressed["acknowledgedId"].startswith(f"{pack}::{pack}-"), suppressed["acknowledgedId"]
            if "IAM5" in suppressed["acknowledgedId"]:
                assert suppressed["acknowledgedId"].endswith("[Resource::*]")
            for violating in suppressed["violatingConstructs"]:
                assert violating["constructPath"].startswith(scope + "/"), (scope, violating["constructPath"])


def test_acknowledged_rules_expected(assemblies: dict[str, Synthesized]) -> None:
    acknowledged = {
        suppressed["acknowledgedId"]
        for env in ENVIRONMENTS
        for report in plugin_reports(assemblies[env]).values()
        for suppressed in report.get("suppressedViolations", [])
    }
    assert acknowledged == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Serverless::Serverless-LambdaDLQ",
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
        "Serverless::Serverless-SQSRedrivePolicy",
    }


def test_insecure_fixture_fails_nag(assemblies: dict[str, Synthesized]) -> None:
    insecure = assemblies["insecure"]
    assert insecure.returncode != 0
    violations = {
        violation["ruleName"] for report in plugin_reports(insecure).values() for violation in report["violations"]
    }
    assert {"AwsSolutions-SQS2", "AwsSolutions-SQS3", "AwsSolutions-SQS4", "Serverless-SQSRedrivePolicy"} <= violations
