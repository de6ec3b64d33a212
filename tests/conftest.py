"""Settings shared by every test: a supported Node.js for jsii, and the snapshot update switch."""

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# jsii starts Node.js when aws_cdk is first imported, so this runs before any test module imports it.
_venv_node = Path(sys.executable).parent / "node"
if "JSII_NODE" not in os.environ and _venv_node.exists():
    os.environ["JSII_NODE"] = str(_venv_node)
# Tests never talk to AWS: fake credentials, and no real profile is read.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(REPO_ROOT / "tests" / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(REPO_ROOT / "tests" / "no-aws-credentials"),
    }
)
os.environ.pop("AWS_PROFILE", None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--snapshot-update",
        action="store_true",
        default=False,
        help="rewrite the template snapshots under tests/synth/snapshots instead of comparing with them",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each module, all scanner tests and all end-to-end tests together on one pytest-xdist worker.

    Module and session fixtures synthesize or deploy once per worker, so splitting a group would repeat
    that work. End-to-end tests share one worker because each starts a moto server, the CDK CLI and
    handler processes, which on two cores would slow each other past the drill's compressed timeouts.
    """
    for item in items:
        path = item.nodeid.split("::")[0]
        if "e2e" in item.keywords:
            group = "e2e"
        elif path.startswith("tests/security/"):
            group = "security"
        else:
            group = path
        item.add_marker(pytest.mark.xdist_group(group))
