"""One local deployment per test module: a moto server, the real CDK CLI deploy of ``config/dev.yaml``, one run."""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sqs_kit.local.deploy import CdkApp
from sqs_kit.local.report import StackInventory
from sqs_kit.local.runner import RunSummary, run_messages
from sqs_kit.local.server import MotoServer, aws_client, local_aws_environment
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
        inventories = deploy_with_stand_ins(server, app).inventories
        summary = run_messages(
            inventories,
            sqs=aws_client("sqs", server.endpoint_url),
            s3=aws_client("s3", server.endpoint_url),
            lambda_client=aws_client("lambda", server.endpoint_url),
            aws_environment=local_aws_environment(server.endpoint_url, os.environ),
            message_count=MESSAGE_COUNT,
            work_dir=work_dir,
        )
        (inventory,) = inventories
        yield LocalDeployment(server=server, inventory=inventory, summary=summary, work_dir=work_dir)
