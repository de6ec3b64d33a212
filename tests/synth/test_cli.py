"""The real CDK CLI on the app: environment selection and invalid configs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqs_kit.local.deploy import synth_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


def run_cdk(*args: str, outdir: Path) -> subprocess.CompletedProcess[str]:
    # No credentials, so the CLI does not look up the default account with STS.
    env = synth_environment(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(outdir), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def prod_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    return run_cdk("-c", "env=prod", outdir=outdir), outdir


def test_cli_synth_prod(prod_synth: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, outdir = prod_synth
    assert result.returncode == 0, result.stderr
    template = json.loads((outdir / "sqs-kit-prod.template.json").read_text())
    queues = [r for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]
    assert sorted(q["Properties"]["MessageRetentionPeriod"] for q in queues) == [604800, 1209600]
    assert all(q["DeletionPolicy"] == "Retain" for q in queues)


def test_cli_uses_supported_node(prod_synth: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, _ = prod_synth
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr


def test_cli_invalid_config(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(
        "removal_policy: destroy\n"
        "queues:\n"
        "  orders:\n"
        "    retention: 4\n"
        "    receive_wait: 21s\n"
        "    consumer: {timeout: 120s}\n"
        "    visibility_timeout: 30s\n"
    )
    outdir = tmp_path / "out"
    result = run_cdk("-c", f"config={config}", outdir=outdir)
    assert result.returncode != 0
    assert f"{config}: 3 invalid settings:" in result.stderr
    assert "queues.orders.retention: 4 is invalid: a duration needs a unit" in result.stderr
    assert "queues.orders.receive_wait: '21s' is invalid" in result.stderr
    assert "queues.orders.visibility_timeout: '30s' is invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(outdir.glob("*.template.json"))
