"""Deploy config/dev.yaml into a moto server with the real CDK CLI, fill its DLQ, and run ``sqs-kit redrive``."""

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sqs_kit.local import cli
from sqs_kit.local.deploy import CdkApp, bootstrap, deploy
from sqs_kit.local.server import MotoServer, aws_client

from .conftest import CDK_CLI, REPO_ROOT
from .queues import bodies, queue_urls

pytestmark = pytest.mark.e2e

MESSAGE_COUNT = 15


@pytest.fixture(scope="module")
def server() -> Iterator[MotoServer]:
    assert CDK_CLI.exists(), f"CDK CLI not installed at {CDK_CLI}; run `make install`"
    with tempfile.TemporaryDirectory(prefix="sqs-kit-e2e-redrive-") as work, MotoServer() as running:
        app = CdkApp(app_dir=REPO_ROOT, output_dir=Path(work) / "cdk.out", context={"env": "dev"})
        bootstrap(app, running.endpoint_url)
        deploy(app, running.endpoint_url)
        disable_event_source_mappings(aws_client("lambda", running.endpoint_url))
        yield running


def disable_event_source_mappings(lambda_client: Any) -> None:
    """Stop moto from invoking the consumer on each send: without Docker it retries the invoke in a busy loop."""
    for mapping in lambda_client.list_event_source_mappings()["EventSourceMappings"]:
        lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def test_redrive_cli_returns_dead_letters(server: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    sqs = aws_client("sqs", server.endpoint_url)
    source_url, dlq_url = queue_urls(server)
    sent = [json.dumps({"order_id": f"o-{index}"}) for index in range(MESSAGE_COUNT)]
    for body in sent:
        sqs.send_message(QueueUrl=dlq_url, MessageBody=body)

    code = cli.main(["redrive", "--env", "dev", "--queue", "orders", "--endpoint", server.endpoint_url])

    output = capsys.readouterr().out
    assert code == 0, output
    assert "mode        receive-send-delete" in output
    assert f"moved       {MESSAGE_COUNT}" in output
    assert sorted(bodies(sqs, source_url)) == sorted(sent)
    assert bodies(sqs, dlq_url) == []


def test_redrive_cli_dry_run_keeps_messages(server: MotoServer, capsys: pytest.CaptureFixture[str]) -> None:
    sqs = aws_client("sqs", server.endpoint_url)
    source_url, dlq_url = queue_urls(server)
    sqs.send_message(QueueUrl=dlq_url, MessageBody="kept")

    code = cli.main(["redrive", "--env", "dev", "--queue", "orders", "--endpoint", server.endpoint_url, "--dry-run"])

    output = capsys.readouterr().out
    assert code == 0, output
    assert "would move  1" in output
    assert bodies(sqs, source_url) == []
    assert bodies(sqs, dlq_url) == ["kept"]


def test_redrive_cli_unknown_queue_fails_cleanly(server: MotoServer, caplog: pytest.LogCaptureFixture) -> None:
    code = cli.main(["redrive", "--env", "dev", "--queue", "missing", "--endpoint", server.endpoint_url])

    assert code == 1
    assert "Queue 'missing' not found in stack sqs-kit-dev" in caplog.text
