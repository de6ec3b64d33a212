"""Drill the dev stack in a moto server: transient, poison and slow messages, nothing lost.

One deployment serves the module. Each test runs a small drill against it with
its own run id, so the drills do not see each other's messages.
"""

import io
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqs_kit.local import cli
from sqs_kit.local.deploy import CdkApp
from sqs_kit.local.drill import DrillOptions, DrillRun, run_drill
from sqs_kit.local.eventsource import TimeScale
from sqs_kit.local.faults import Fault, FaultMix
from sqs_kit.local.server import MotoServer, aws_client
from sqs_kit.local.standins import LocalDeployment, deploy_with_stand_ins

from .conftest import CDK_CLI, REPO_ROOT
from .queues import bodies, queue_urls

pytestmark = pytest.mark.e2e

# 180 turns the dev queue's 180 s visibility timeout into 1 s, the smallest SQS allows.
TEST_TIME_SCALE = TimeScale(180.0)
MAX_RECEIVE_COUNT = 5


@dataclass(frozen=True)
class Deployed:
    server: MotoServer
    deployment: LocalDeployment
    work_dir: Path

    def drill(self, messages: int, mix: FaultMix) -> DrillRun:
        options = DrillOptions(
            messages=messages,
            mix=mix,
            seed=7,
            time_scale=TEST_TIME_SCALE,
            max_seconds=60.0,
            queue_filter=None,
            chart=None,
        )
        return run_drill(self.server, self.deployment, options, self.work_dir, progress=io.StringIO())


@pytest.fixture(scope="module")
def dev() -> Iterator[Deployed]:
    assert CDK_CLI.exists(), f"CDK CLI not installed at {CDK_CLI}; run `make install`"
    with tempfile.TemporaryDirectory(prefix="sqs-kit-drill-e2e-") as work, MotoServer() as server:
        app = CdkApp(app_dir=REPO_ROOT, output_dir=Path(work) / "cdk.out", context={"env": "dev"})
        yield Deployed(server, deploy_with_stand_ins(server, app), Path(work))


@pytest.fixture(scope="module")
def transient_and_poison(dev: Deployed) -> DrillRun:
    return dev.drill(250, FaultMix(transient=0.3, poison=0.02))


def test_drill_transient_and_poison_loses_nothing(transient_and_poison: DrillRun) -> None:
    outcome = transient_and_poison.outcome
    assert len(outcome.sent_ids) == 250
    assert outcome.lost_ids == set()
    assert outcome.processed_ids | outcome.dead_letter_ids == outcome.sent_ids


def test_drill_poison_reaches_dlq_after_max_receive_count(transient_and_poison: DrillRun) -> None:
    poison = transient_and_poison.plan.ids_with(Fault.POISON)
    outcome = transient_and_poison.outcome
    assert len(poison) == 5
    assert outcome.dead_letter_ids == poison
    assert {outcome.receives[message_id] for message_id in poison} == {MAX_RECEIVE_COUNT}
    assert outcome.wrong_receive_counts == {}


def test_drill_transient_messages_are_processed(transient_and_poison: DrillRun) -> None:
    transient = transient_and_poison.plan.ids_with(Fault.TRANSIENT)
    outcome = transient_and_poison.outcome
    assert transient <= outcome.processed_ids
    # SQS standard queues deliver at least once, so a repeat under a 1 s visibility timeout is allowed here.
    assert all(outcome.receives[message_id] >= 2 for message_id in transient)


def test_drill_counts_requests_by_operation(transient_and_poison: DrillRun) -> None:
    requests = transient_and_poison.outcome.requests
    # 250 messages in SendMessageBatch calls of 10.
    assert requests["producer (worker)"] == {"SQS.SendMessageBatch": 25}
    assert requests["event source"]["SQS.DeleteMessageBatch"] > 0


def test_drill_slow_handler_batch_is_retried_not_lost(dev: Deployed) -> None:
    run = dev.drill(40, FaultMix(slow=0.05))
    slow = run.plan.ids_with(Fault.SLOW)
    assert run.outcome.timeouts >= 1
    assert slow <= run.outcome.processed_ids
    assert {run.outcome.receives[message_id] for message_id in slow} == {2}
    assert run.outcome.lost_ids == set()


def test_redrive_returns_drill_dead_letters(
    dev: Deployed, transient_and_poison: DrillRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # Runs last: it puts the first drill's poison messages back into the source queue.
    sqs = aws_client("sqs", dev.server.endpoint_url)
    source_url, dlq_url = queue_urls(dev.server)
    poison = transient_and_poison.plan.ids_with(Fault.POISON)

    code = cli.main(["redrive", "--env", "dev", "--queue", "orders", "--endpoint", dev.server.endpoint_url])

    output = capsys.readouterr().out
    assert code == 0, output
    assert f"moved       {len(poison)}" in output
    assert bodies(sqs, dlq_url) == []
    returned = {json.loads(body)["order_id"] for body in bodies(sqs, source_url)}
    assert returned == poison
