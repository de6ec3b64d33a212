"""The ``sqs-kit`` command. ``sqs-kit local`` deploys a CDK app into a moto server and drives messages through it."""

import argparse
import contextlib
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .deploy import CdkApp, CdkCommandError
from .diff import register_diff
from .drill import register_drill
from .redrive import register_redrive
from .report import print_report
from .runner import RunnerError, RunSummary, run_messages
from .server import LocalServerError, MotoServer, aws_client, local_aws_environment
from .standins import LocalDeployment, deploy_with_stand_ins
from .state import published_state

logger = logging.getLogger(__name__)

DEFAULT_MESSAGE_COUNT = 20
# 128 + SIGINT, the shell's convention for a command stopped by Ctrl-C.
INTERRUPTED_EXIT_CODE = 130


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="sqs-kit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log the CDK CLI output and handler logs")
    commands = parser.add_subparsers(dest="command", required=True)
    local = commands.add_parser(
        "local",
        help="deploy the app into a local moto server and run messages through it",
        description="Bootstrap and deploy a CDK app into a moto server on 127.0.0.1 with the real CDK CLI, "
        "run its deployed producer and consumer code, and report what was created and what happened "
        "to every message. Exits 1 if a message was lost or a step failed.",
    )
    local.add_argument("--env", help="the app's environment, passed as `-c env=ENV` (sqs-kit: config/ENV.yaml)")
    local.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with cdk.json (default: current)")
    local.add_argument("--cdk", type=Path, help="path of the CDK CLI (default: APP_DIR/node_modules/.bin/cdk)")
    local.add_argument("--app", help="the CDK app command (default: `app` in cdk.json)")
    local.add_argument(
        "--context", action="append", default=[], metavar="KEY=VALUE", help="a CDK context value; repeatable"
    )
    local.add_argument(
        "--messages",
        type=int,
        default=DEFAULT_MESSAGE_COUNT,
        help=f"messages to send through each producer (default: {DEFAULT_MESSAGE_COUNT}; 0 deploys only)",
    )
    local.add_argument("--port", type=int, help="moto server port on 127.0.0.1 (default: a free port)")
    local.add_argument("--keep-running", action="store_true", help="keep the server up after the report, until Ctrl-C")
    local.set_defaults(handler=run_local)
    register_drill(commands)
    register_redrive(commands)
    register_diff(commands)
    return parser


def parse_context(pairs: Sequence[str]) -> dict[str, str]:
    """Return ``KEY=VALUE`` pairs as a dict. Raise ``ValueError`` naming the first pair without '='."""
    context = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise ValueError(f"Invalid --context {pair!r}: expected KEY=VALUE, for example --context env=dev")
        context[key] = value
    return context


def run_local_flow(server: MotoServer, app: CdkApp, message_count: int, work_dir: Path) -> RunSummary | None:
    """Deploy, run the messages and print the report. Return the run summary, or None when no message was sent."""
    deployment = deploy_with_stand_ins(server, app)
    summary = run_deployment(server, deployment, message_count, work_dir) if message_count > 0 else None
    print_report(deployment.inventories, summary, sys.stdout)
    return summary


def run_deployment(server: MotoServer, deployment: LocalDeployment, message_count: int, work_dir: Path) -> RunSummary:
    """Send ``message_count`` messages through each deployed producer and drain every consumer's queue."""
    return run_messages(
        deployment.inventories,
        stand_ins=deployment.stand_ins,
        sqs=aws_client("sqs", server.endpoint_url),
        s3=aws_client("s3", server.endpoint_url),
        lambda_client=aws_client("lambda", server.endpoint_url),
        aws_environment=local_aws_environment(server.endpoint_url, os.environ),
        message_count=message_count,
        work_dir=work_dir,
    )


def wait_for_interrupt(server: MotoServer) -> None:
    """Print how to reach the server and block until Ctrl-C."""
    print(f"\nmoto server running at {server.endpoint_url}. Point a client at it with:")
    print(f"  export AWS_ENDPOINT_URL={server.endpoint_url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1")
    print("  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing")
    print("Press Ctrl-C to stop it.", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.wait()


def run_local(args: argparse.Namespace) -> int:
    """Run ``sqs-kit local`` and return its exit code."""
    if args.messages < 0:
        raise ValueError(f"Invalid --messages {args.messages}: expected 0 or more (0 deploys without a run)")
    context = parse_context(args.context)
    if args.env:
        context["env"] = args.env
    app_dir = args.app_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="sqs-kit-local-") as work, MotoServer(port=args.port) as server:
        work_dir = Path(work)
        # A private cloud assembly folder, so a concurrent synth in the app folder is neither blocked nor clobbered.
        app = CdkApp(app_dir=app_dir, output_dir=work_dir / "cdk.out", cdk=args.cdk, context=context, app=args.app)
        summary = run_local_flow(server, app, args.messages, work_dir)
        if args.keep_running:
            with published_state(app_dir, server, app.output_dir):
                wait_for_interrupt(server)
    if summary is not None and summary.lost_ids:
        logger.error("%d of %d messages were lost", len(summary.lost_ids), len(summary.sent_ids))
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run the command and return its exit code; errors are printed without a traceback."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:
        # boto and moto log every request at DEBUG and some at INFO; the command's own steps are what matter.
        for name in ("botocore", "boto3", "urllib3"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # The moto server runs in a session of its own, so a SIGTERM must unwind the ``with`` blocks that stop it.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.handler(args))
    except (LocalServerError, CdkCommandError, RunnerError, ValueError) as error:
        logger.error("%s", error)
        return 1
    except KeyboardInterrupt:
        logger.error("Interrupted; the moto server was stopped")
        return INTERRUPTED_EXIT_CODE


def _interrupt(signal_number: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signal_number}")


if __name__ == "__main__":
    sys.exit(main())
