"""cfn-lint with the serverless rules on every template: no errors and no unlisted warnings."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import ENVIRONMENTS, Synthesized

# Warnings allowed across all templates, with the reason. Findings that apply to one resource are
# ignored on that resource in the template's metadata instead (see sqs_kit.compliance).
ALLOWED_WARNINGS: dict[str, str] = {}


def run_cfn_lint(template: Path) -> list[dict[str, Any]]:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "json", "--append-rules", "cfn_lint_serverless.rules", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    # cfn-lint exits with a bit mask of the levels it found; anything above 31 means it failed to run.
    assert result.returncode < 32, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


@pytest.fixture(scope="module")
def findings(assemblies: dict[str, Synthesized]) -> dict[str, list[dict[str, Any]]]:
    return {name: run_cfn_lint(synthesized.template_path) for name, synthesized in assemblies.items()}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_errors(findings: dict[str, list[dict[str, Any]]], env: str) -> None:
    errors = [f for f in findings[env] if f["Level"] == "Error"]
    assert errors == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_allowed_warnings(findings: dict[str, list[dict[str, Any]]], env: str) -> None:
    warnings = [f for f in findings[env] if f["Level"] != "Error" and f["Rule"]["Id"] not in ALLOWED_WARNINGS]
    assert warnings == []


def test_insecure_fixture_flagged(findings: dict[str, list[dict[str, Any]]]) -> None:
    rules = {finding["Rule"]["Id"] for finding in findings["insecure"]}
    # ES6000: a queue without a redrive policy, from the serverless rules.
    assert "ES6000" in rules
