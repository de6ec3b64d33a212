"""checkov on every template, offline: no failed checks, and every skip carries its reason."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import ENVIRONMENTS, REPO_ROOT, Synthesized

# checkov pins packages that conflict with the dev environment, so `make install` gives it its own.
CHECKOV = REPO_ROOT / ".venv-scan" / "bin" / "checkov"


def run_checkov(template: Path) -> dict[str, Any]:
    # --skip-download keeps checkov from fetching its guidelines or a platform configuration.
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    output = json.loads(result.stdout)
    report: dict[str, Any] = output[0] if isinstance(output, list) else output
    return report


@pytest.fixture(scope="module")
def reports(assemblies: dict[str, Synthesized]) -> dict[str, dict[str, Any]]:
    assert CHECKOV.exists(), f"{CHECKOV} is missing; run `make install`"
    return {name: run_checkov(synthesized.template_path) for name, synthesized in assemblies.items()}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_no_failed_checks(reports: dict[str, dict[str, Any]], env: str) -> None:
    failed = [(c["check_id"], c["resource"]) for c in reports[env]["results"]["failed_checks"]]
    assert failed == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_checks_actually_ran(reports: dict[str, dict[str, Any]], env: str) -> None:
    summary = reports[env]["summary"]
    assert summary["resource_count"] >= 10
    assert summary["passed"] >= 20
    assert summary["parsing_errors"] == 0


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_skips_have_reasons(reports: dict[str, dict[str, Any]], env: str) -> None:
    skipped = reports[env]["results"]["skipped_checks"]
    assert skipped, "every environment has functions, whose checkov skips this test reads"
    for check in skipped:
        comment = check.get("check_result", {}).get("suppress_comment", "")
        assert len(comment) >= 60, (check["check_id"], check["resource"], comment)


def test_sqs_managed_skip_names_defect(reports: dict[str, dict[str, Any]]) -> None:
    skipped = [c for c in reports["dev"]["results"]["skipped_checks"] if c["check_id"] == "CKV_AWS_27"]
    assert len(skipped) == 2
    for check in skipped:
        assert "#7381" in check["check_result"]["suppress_comment"]


def test_customer_key_needs_no_queue_skip(reports: dict[str, dict[str, Any]]) -> None:
    skipped = [c for c in reports["prod"]["results"]["skipped_checks"] if c["check_id"] == "CKV_AWS_27"]
    assert skipped == []


def test_insecure_fixture_flagged(reports: dict[str, dict[str, Any]]) -> None:
    failed = {c["check_id"] for c in reports["insecure"]["results"]["failed_checks"]}
    assert "CKV_AWS_27" in failed
