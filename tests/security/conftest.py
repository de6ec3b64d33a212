"""Synthesize every environment and the insecure fixture once for all scanner tests."""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.security import insecure_app

REPO_ROOT = Path(__file__).resolve().parents[2]
# dev: SQS-managed keys; prod: a customer-managed key; mixed: FIFO, an imported queue and cross-account senders.
ENVIRONMENTS = ("dev", "prod", "mixed")


@dataclass(frozen=True)
class Synthesized:
    """One app's cloud assembly: its template, the validation report and the synth's exit code and output."""

    name: str
    template_path: Path
    report: dict[str, Any]
    returncode: int
    stderr: str

    @property
    def template(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.template_path.read_text())
        return loaded


def synth_with_app_py(env: str, outdir: Path) -> Synthesized:
    """Run ``python app.py`` as the CDK CLI does, so cdk-nag runs exactly as in ``cdk synth``."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    environment = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps({**context, "env": env})}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
    )
    return Synthesized(
        name=env,
        template_path=outdir / f"sqs-kit-{env}.template.json",
        report=_read_report(outdir),
        returncode=result.returncode,
        stderr=result.stderr,
    )


def synth_insecure(outdir: Path) -> Synthesized:
    """Synthesize the insecure fixture with the same cdk-nag packs; its synth is expected to fail."""
    code = (
        "import sys; from aws_cdk import App, Validations; "
        "from cdk_nag import AwsSolutionsChecks, ServerlessChecks; "
        "from tests.security.insecure_app import build; "
        f"app = App(outdir={str(outdir)!r}); build(app); "
        "Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app)); app.synth()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=os.environ, capture_output=True, text=True, check=False
    )
    return Synthesized(
        name="insecure",
        template_path=outdir / f"{insecure_app.STACK_NAME}.template.json",
        report=_read_report(outdir),
        returncode=result.returncode,
        stderr=result.stderr,
    )


def _read_report(outdir: Path) -> dict[str, Any]:
    path = outdir / "validation-report.json"
    if not path.exists():
        return {}
    report: dict[str, Any] = json.loads(path.read_text())
    return report


@pytest.fixture(scope="session")
def assemblies() -> Iterator[dict[str, Synthesized]]:
    with tempfile.TemporaryDirectory(prefix="sqs-kit-security-") as root:
        built = {env: synth_with_app_py(env, Path(root) / env) for env in ENVIRONMENTS}
        built["insecure"] = synth_insecure(Path(root) / "insecure")
        yield built
