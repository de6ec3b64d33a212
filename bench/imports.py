"""Import-time benchmark: each Lambda handler module against ``import boto3``.

Every sample is a fresh ``.venv/bin/python`` that times only the import inside
the child, so interpreter start-up is excluded. A handler is loaded by file path
with its folder first on ``sys.path``, as the Lambda runtime does. Bytecode
caches are read but not written, so each handler file itself is compiled on every
load (as on Lambda, because the bundle excludes ``*.pyc``) while installed
packages load from their existing caches.
"""

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paths import PROJECT_PYTHON, REPO_ROOT, base_env
from stats import run_interleaved

LOAD_BY_PATH_CODE = """
import importlib.util, pathlib, sys, time
path = pathlib.Path(sys.argv[1])
sys.path.insert(0, str(path.parent))
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", path)
module = importlib.util.module_from_spec(spec)
sys.modules["handler"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""
IMPORT_BOTO3_CODE = """
import time
start = time.perf_counter()
import boto3
print(time.perf_counter() - start)
"""
# The environment the stack gives the functions, with placeholder values: module-level
# code may read it. The queue URL is never called.
HANDLER_ENV = {
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench",
    "QUEUE_FIFO": "false",
    "POWERTOOLS_SERVICE_NAME": "bench",
}
TOP_IMPORTS = 5


@dataclass(frozen=True)
class ImportTarget:
    """One thing to import in a fresh interpreter."""

    key: str
    description: str
    arguments: tuple[str, ...]


def handler_targets() -> list[ImportTarget]:
    targets = [ImportTarget("boto3", "`import boto3`", ("-c", IMPORT_BOTO3_CODE))]
    for name in ("producer", "consumer"):
        path = REPO_ROOT / "lambda" / name / "handler.py"
        targets.append(ImportTarget(name, f"`lambda/{name}/handler.py`", ("-c", LOAD_BY_PATH_CODE, str(path))))
    return targets


def is_placeholder(path: Path) -> bool:
    """Return whether a handler file does not use Powertools yet, so its import time means nothing."""
    return "aws_lambda_powertools" not in path.read_text()


def import_once(target: ImportTarget, *, extra_flags: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    env = {**base_env(), **HANDLER_ENV}
    command = [str(PROJECT_PYTHON), *extra_flags, *target.arguments]
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"importing {target.description} failed:\n{result.stderr[-4000:]}")
    return result


def import_seconds(target: ImportTarget) -> float:
    return float(import_once(target).stdout.strip().splitlines()[-1])


def run_import_benchmark(targets: Sequence[ImportTarget], repeat: int) -> dict[str, list[float]]:
    """Time every target ``repeat`` times, interleaved, after one untimed warm-up round."""
    by_key = {target.key: target for target in targets}
    return run_interleaved(list(by_key), repeat, lambda key: import_seconds(by_key[key]))


def top_level_imports(target: ImportTarget) -> list[tuple[str, float]]:
    """Return the slowest top-level packages of one import by cumulative time, from ``python -X importtime``."""
    stderr = import_once(target, extra_flags=("-X", "importtime")).stderr
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        # Format: "import time: <self us> | <cumulative us> | <indented module name>".
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].removeprefix(" ")
        if name.startswith("  "):
            continue  # Nested import: already inside its parent's cumulative time.
        top = name.strip().split(".")[0]
        totals[top] = totals.get(top, 0.0) + int(parts[1]) / 1e6
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)[:TOP_IMPORTS]
