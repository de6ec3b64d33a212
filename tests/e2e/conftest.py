"""One local deployment per test module: a moto server, the real CDK CLI deploy of ``config/dev.yaml``, one run."""

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sqs_kit.local.cli import run_deployment
from sqs_kit.local.deploy import CdkApp
from sqs_kit.local.report import StackInventory
from sqs_kit.local.runner import RunSummary
from sqs_kit.local.server import MotoServer, aws_client
from sqs_kit.local.standins import deploy_with_stand_ins

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
MESSAGE_COUNT = 20


@dataclass(frozen=True)
class LocalDeployment:
    """A deployed stack in a running moto server, and the outcome of one message run through it."""

    server: MotoServer
    inventory: StackInventory
    summary: RunSummary
    work_dir: Path

    def client(self, service: str) -> Any:
        return aws_client(service, self.server.endpoint_url)


@pytest.fixture(scope="module")
def local_deployment() -> Iterator[LocalDeployment]:
    # A missing CLI is a failed install, not a reason to skip: `make test` installs it.
    assert CDK_CLI.exists(), f"CDK CLI not installed at {CDK_CLI}; run `make install`"
    with tempfile.TemporaryDirectory(prefix="sqs-kit-e2e-") as work, MotoServer() as server:
        work_dir = Path(work)
        app = CdkApp(app_dir=REPO_ROOT, output_dir=work_dir / "cdk.out", context={"env": "dev"})
        deployment = deploy_with_stand_ins(server, app)
        summary = run_deployment(server, deployment, MESSAGE_COUNT, work_dir)
        (inventory,) = deployment.inventories
        yield LocalDeployment(server=server, inventory=inventory, summary=summary, work_dir=work_dir)
