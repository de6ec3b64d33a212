"""Deploy config/mixed.yaml into moto: a FIFO queue, a standard queue and an imported queue's local stand-in.

The imported queue ``shared-events`` is not created by the stack, so a stand-in
is created before ``cdk deploy``. Then messages go through all three queues,
and a FIFO drill keeps each message group in order under failures.
"""

import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqs_kit.local.cli import run_deployment
from sqs_kit.local.deploy import CdkApp
from sqs_kit.local.drill import DrillOptions, run_drill
from sqs_kit.local.eventsource import TimeScale
from sqs_kit.local.faults import FaultMix
from sqs_kit.local.runner import RunSummary
from sqs_kit.local.server import MotoServer
from sqs_kit.local.standins import LocalDeployment, deploy_with_stand_ins

from .conftest import CDK_CLI, REPO_ROOT

pytestmark = pytest.mark.e2e

MESSAGE_COUNT = 10
SHARED_EVENTS_ARN = "arn:aws:sqs:us-east-1:123456789012:shared-events"


@dataclass(frozen=True)
class Mixed:
    server: MotoServer
    deployment: LocalDeployment
    summary: RunSummary
    work_dir: Path


@pytest.fixture(scope="module")
def mixed() -> Iterator[Mixed]:
    assert CDK_CLI.exists(), f"CDK CLI not installed at {CDK_CLI}; run `make install`"
    with tempfile.TemporaryDirectory(prefix="sqs-kit-mixed-e2e-") as work, MotoServer() as server:
        work_dir = Path(work)
        app = CdkApp(app_dir=REPO_ROOT, output_dir=work_dir / "cdk.out", context={"env": "mixed"})
        deployment = deploy_with_stand_ins(server, app)
        summary = run_deployment(server, deployment, MESSAGE_COUNT, work_dir)
        yield Mixed(server, deployment, summary, work_dir)


def test_mixed_imported_queue_has_stand_in(mixed: Mixed) -> None:
    assert [queue.arn for queue in mixed.deployment.stand_ins] == [SHARED_EVENTS_ARN]
    assert "shared-events is an empty local stand-in for an imported queue" in mixed.summary.notes


def test_mixed_messages_pass_through_every_queue(mixed: Mixed) -> None:
    # Three producers: payments (FIFO), notifications and shared-events.
    assert len(mixed.summary.sent_ids) == 3 * MESSAGE_COUNT
    assert mixed.summary.processed_ids == mixed.summary.sent_ids
    assert mixed.summary.lost_ids == set()


def test_mixed_fifo_drill_keeps_group_order_under_failures(mixed: Mixed) -> None:
    options = DrillOptions(
        messages=100,
        mix=FaultMix(transient=0.2, poison=0.02),
        seed=3,
        time_scale=TimeScale(180.0),
        max_seconds=60.0,
        queue_filter="Payments",
        chart=None,
    )
    run = run_drill(mixed.server, mixed.deployment, options, mixed.work_dir, progress=io.StringIO())
    assert run.outcome.lost_ids == set()
    assert run.outcome.wrong_receive_counts == {}
    assert len(run.order_by_group) == 10
    for group, keys in run.order_by_group.items():
        numbers = [int(key.rsplit("-", 1)[-1]) for key in keys]
        receives = [run.outcome.receives.get(key) for key in keys]
        assert numbers == sorted(numbers), f"group {group} processed out of order: {numbers}, receives {receives}"
