"""Synth benchmark: the dev app against a bare-queue app and a Solutions Constructs app.

Each app runs as ``python app.py`` without the CDK CLI, so the CLI's own start-up
(another Node.js process) is not measured. Every run gets a fresh empty
``CDK_OUTDIR``, so the dev app bundles its Lambda code each time. The pip install
behind that bundling is cached under ~/.cache/sqs-kit, and the untimed first
round fills that cache.
"""

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from measure import Sample, run_measured
from paths import BENCH_DIR, BENCH_PYTHON, PROJECT_PYTHON, REPO_ROOT, base_env
from stats import run_interleaved


@dataclass(frozen=True)
class SynthApp:
    """One CDK app to synthesize."""

    key: str
    description: str
    command: tuple[str, ...]
    context: dict[str, object] = field(default_factory=dict)


# The floor under every app: jsii starts Node.js and loads aws-cdk-lib, then the process exits.
CDK_FLOOR_CODE = "import aws_cdk; aws_cdk.App()"


def feature_flags() -> dict[str, object]:
    """Return the context from cdk.json, which `cdk synth` would pass to any app, with ``env`` removed."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {name: value for name, value in context.items() if name != "env"}


def synth_apps() -> list[SynthApp]:
    flags = feature_flags()
    return [
        SynthApp(
            "dev",
            "dev app: `app.py`, env=dev (config/dev.yaml)",
            (str(PROJECT_PYTHON), "app.py"),
            {**flags, "env": "dev"},
        ),
        SynthApp(
            "bare",
            "bare app: one `sqs.Queue` (bench/apps/bare_queue)",
            (str(PROJECT_PYTHON), str(BENCH_DIR / "apps" / "bare_queue" / "app.py")),
            flags,
        ),
        SynthApp(
            "solutions",
            "Solutions Constructs app: `SqsToLambda` + `LambdaToSqs` (bench/apps/solutions_constructs)",
            (str(BENCH_PYTHON), str(BENCH_DIR / "apps" / "solutions_constructs" / "app.py")),
            flags,
        ),
        SynthApp(
            "floor",
            "floor: `import aws_cdk; App()`, no synth",
            (str(PROJECT_PYTHON), "-c", CDK_FLOOR_CODE),
        ),
    ]


def synth_once(app: SynthApp) -> Sample:
    env = base_env()
    env["CDK_CONTEXT_JSON"] = json.dumps(app.context)
    outdir = tempfile.mkdtemp(prefix=f"sqs-kit-bench-{app.key}-")
    env["CDK_OUTDIR"] = outdir
    try:
        return run_measured(app.command, env=env, cwd=REPO_ROOT)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def run_synth_benchmark(apps: Sequence[SynthApp], repeat: int) -> dict[str, list[Sample]]:
    """Synthesize every app ``repeat`` times, interleaved, after one untimed warm-up round."""
    by_key = {app.key: app for app in apps}
    return run_interleaved(list(by_key), repeat, lambda key: synth_once(by_key[key]))
