"""Facts about the machine and the tool versions, recorded beside every result."""

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from paths import NODE, PROJECT_PYTHON, REPO_ROOT

PROJECT_PACKAGES = ("aws-cdk-lib", "constructs", "jsii", "boto3", "aws-lambda-powertools")
BENCH_PACKAGES = ("aws-solutions-constructs.aws-sqs-lambda", "aws-solutions-constructs.aws-lambda-sqs", "psutil")
VERSIONS_CODE = """
import json, platform, sys
from importlib import metadata
print(json.dumps({"Python": platform.python_version(), **{name: metadata.version(name) for name in sys.argv[1:]}}))
"""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024**2
    raise RuntimeError("MemTotal not found in /proc/meminfo")


def machine_summary() -> str:
    return f"{os.cpu_count()} cores, {memory_gib():.1f} GiB, {cpu_model()}, Linux {platform.release()}"


def project_versions() -> dict[str, str]:
    """Return the versions in .venv, which runs the dev app, the bare app and the handler imports."""
    command = [str(PROJECT_PYTHON), "-c", VERSIONS_CODE, *PROJECT_PACKAGES]
    versions: dict[str, str] = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    node = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    # Read from its package.json: running the CLI's launcher would start whichever node is first on PATH.
    cli = json.loads((REPO_ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    return {**versions, "Node.js": node, "CDK CLI": cli}


def bench_versions() -> dict[str, str]:
    """Return the versions of the bench-only packages in .venv-bench, the interpreter running this code."""
    return {name: metadata.version(name) for name in BENCH_PACKAGES}
