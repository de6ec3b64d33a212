"""Bootstrap and deploy a CDK app into the local moto server with the real CDK CLI.

The CLI is the one the app pins (``node_modules/.bin/cdk``), so the local
deploy publishes assets, creates change sets and waits for the stack exactly
as a real deploy does. Only the endpoint and the credentials differ, and both
come from ``server.local_aws_environment``.
"""

import json
import logging
import os
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .server import LOCAL_ACCOUNT_ID, LOCAL_REGION, MISSING_AWS_FILE, local_aws_environment

logger = logging.getLogger(__name__)

DEFAULT_CDK = Path("node_modules") / ".bin" / "cdk"
# Enough lines of CLI output to show the failing resource and the CLI's own error message.
ERROR_TAIL_LINES = 40
STACK_ARTIFACT_TYPE = "aws:cloudformation:stack"
# The CLI otherwise fetches notices, checks npm for a newer version and sends telemetry: all outside this machine.
OFFLINE_CLI_ENVIRONMENT = {"CDK_DISABLE_CLI_TELEMETRY": "true", "CDK_DISABLE_VERSION_CHECK": "true"}


class CdkCommandError(RuntimeError):
    """A CDK CLI command exited non-zero; the message ends with the CLI's last lines of output."""


@dataclass(frozen=True)
class CdkApp:
    """A CDK app folder and how to run the CLI on it."""

    app_dir: Path
    output_dir: Path
    cdk: Path | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    app: str | None = None

    @property
    def cdk_executable(self) -> Path:
        """Path of the CDK CLI: ``cdk`` when given, else ``node_modules/.bin/cdk`` in the app folder."""
        return self.cdk if self.cdk is not None else self.app_dir / DEFAULT_CDK

    def command(self, *arguments: str) -> list[str]:
        """Return the CLI command line for ``arguments`` with the app's context and cloud assembly folder."""
        command = [str(self.cdk_executable), *arguments, "--no-notices", "--output", str(self.output_dir)]
        if self.app is not None:
            command += ["--app", self.app]
        for key, value in self.context.items():
            command += ["--context", f"{key}={value}"]
        return command


def cli_environment(endpoint_url: str, base: Mapping[str, str]) -> dict[str, str]:
    """Return the CLI's environment: local AWS settings, no outside calls, this venv's Node.js first on PATH."""
    environment = local_aws_environment(endpoint_url, base)
    environment.update(OFFLINE_CLI_ENVIRONMENT)
    # The venv carries Node.js 24 for jsii and the CLI (see the Makefile).
    # NOTE: this also puts this venv's python first, which an app whose cdk.json runs a bare `python` will use.
    venv_bin = str(Path(sys.executable).parent)
    if (Path(venv_bin) / "node").exists():
        environment["PATH"] = os.pathsep.join([venv_bin, environment.get("PATH", "")])
    return environment


def synth_environment(base: Mapping[str, str]) -> dict[str, str]:
    """Return the CLI's environment for a synth that needs no AWS account: no credentials, no outside calls.

    With credentials, ``cdk synth`` looks up the default account with a request
    to AWS STS. Without them it skips that lookup, and the kit's stacks need no
    account at synth.
    """
    environment = {name: value for name, value in base.items() if not name.startswith("AWS_")}
    environment.update(OFFLINE_CLI_ENVIRONMENT)
    environment.update(
        {
            "AWS_CONFIG_FILE": MISSING_AWS_FILE,
            "AWS_SHARED_CREDENTIALS_FILE": MISSING_AWS_FILE,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return environment


def run_cdk(app: CdkApp, arguments: Sequence[str], environment: Mapping[str, str]) -> None:
    """Run one CLI command in the app folder, logging its output; raise ``CdkCommandError`` if it fails."""
    command = app.command(*arguments)
    if not app.cdk_executable.exists():
        raise CdkCommandError(
            f"CDK CLI not found at {app.cdk_executable}. Run `npm ci` in {app.app_dir} or pass --cdk PATH."
        )
    logger.info("Running %s", " ".join(command))
    tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
    with subprocess.Popen(
        command,
        cwd=app.app_dir,
        env=dict(environment),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for raw_line in process.stdout:
            line = raw_line.rstrip()
            tail.append(line)
            logger.debug("cdk: %s", line)
    if process.returncode != 0:
        output = "\n".join(tail)
        raise CdkCommandError(
            f"`cdk {arguments[0]}` failed with exit code {process.returncode} in {app.app_dir}.\n"
            f"Last lines of its output:\n{output}"
        )


def bootstrap(app: CdkApp, endpoint_url: str) -> None:
    """Create the CDK bootstrap stack (asset bucket, roles) in the local account and region."""
    environment = cli_environment(endpoint_url, os.environ)
    run_cdk(app, ["bootstrap", f"aws://{LOCAL_ACCOUNT_ID}/{LOCAL_REGION}"], environment)


def deploy(app: CdkApp, endpoint_url: str) -> list[str]:
    """Synthesize and deploy every stack of the app; return the deployed stack names."""
    environment = cli_environment(endpoint_url, os.environ)
    run_cdk(app, ["deploy", "--all", "--require-approval", "never"], environment)
    return stack_names(app.output_dir)


def stack_names(output_dir: Path) -> list[str]:
    """Return the CloudFormation stack names in the cloud assembly at ``output_dir``."""
    manifest_path = output_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except FileNotFoundError as error:
        raise CdkCommandError(f"Cloud assembly manifest not found at {manifest_path}: did synth run?") from error
    names = []
    for artifact_id, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == STACK_ARTIFACT_TYPE:
            names.append(artifact.get("properties", {}).get("stackName", artifact_id))
    return names


__all__ = ["CdkApp", "CdkCommandError", "bootstrap", "deploy", "stack_names"]
