"""Synth benchmark: the dev app against a bare-queue app and a Solutions Constructs app.

The apps are measured two ways (the dev app on plain Node.js and the floor only
the first):

- ``process``: the app runs as ``python app.py``, so the time is the app's own
  (Python, jsii and its Node.js process).
- ``cli``: ``cdk synth --quiet`` of the pinned CDK CLI runs the app, as a user
  would. This adds the CLI's own start-up and its reading of the cloud assembly,
  which every app pays alike.

Every run gets a fresh empty output folder, so every app with functions bundles
its Lambda code each time. The pip install behind that bundling is cached under
~/.cache/sqs-kit, and the untimed first round fills that cache.
"""

import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from measure import Sample, run_measured
from paths import BENCH_DIR, BENCH_PYTHON, CDK_CLI, NODE, PROJECT_PYTHON, REPO_ROOT, base_env
from stats import run_interleaved

PROCESS = "process"
CLI = "cli"
MODES = (PROCESS, CLI)

# The floor under every app: jsii starts Node.js and loads aws-cdk-lib, then the process exits.
CDK_FLOOR_CODE = "import aws_cdk; aws_cdk.App()"
# The CLI would otherwise fetch notices, check npm for a newer version and send telemetry.
OFFLINE_CLI_FLAGS = ("--no-notices",)
OFFLINE_CLI_ENVIRONMENT = {
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "true",
    # No credentials and no profile files: with credentials, `cdk synth` looks up the default account with STS.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class SynthApp:
    """One CDK app to synthesize.

    ``cli_arguments`` are what ``cdk synth`` needs to run the app; ``None`` leaves
    the app out of the ``cli`` mode.
    """

    key: str
    description: str
    command: tuple[str, ...]
    context: dict[str, object] = field(default_factory=dict)
    cli_arguments: tuple[str, ...] | None = None
    # True when the app picks jsii's Node.js itself (app.py does); the others get JSII_NODE=.venv/bin/node.
    picks_node: bool = False


@dataclass(frozen=True)
class Variant:
    """One app measured one way."""

    app: SynthApp
    mode: str

    @property
    def key(self) -> str:
        return f"{self.app.key}:{self.mode}"


# Context keys that CDK CLI 2.1149.0 adds to cdk.json's for `cdk synth` (read from CDK_CONTEXT_JSON in an app it ran).
CLI_SYNTH_CONTEXT: dict[str, object] = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
    "@aws-cdk/core:failSynthOnValidationErrors": False,
}


def feature_flags() -> dict[str, object]:
    """Return the context that `cdk synth` passes to any app: cdk.json's without ``env``, and the CLI's own."""
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {**{name: value for name, value in context.items() if name != "env"}, **CLI_SYNTH_CONTEXT}


def app_option(*command: object) -> tuple[str, ...]:
    """Return the ``--app`` option that makes the CLI run ``command`` instead of cdk.json's app."""
    return ("--app", shlex.join(str(part) for part in command))


def synth_apps() -> list[SynthApp]:
    flags = feature_flags()
    bare = BENCH_DIR / "apps" / "bare_queue" / "app.py"
    solutions = BENCH_DIR / "apps" / "solutions_constructs" / "app.py"
    kit = BENCH_DIR / "apps" / "kit_constructs" / "app.py"
    without_nag = BENCH_DIR / "apps" / "dev_without_nag" / "app.py"
    return [
        SynthApp(
            "dev",
            "dev app: `app.py`, env=dev (config/dev.yaml)",
            (str(PROJECT_PYTHON), "app.py"),
            {**flags, "env": "dev"},
            # cdk.json's own app command, as `make synth` runs it.
            ("--context", "env=dev"),
            picks_node=True,
        ),
        SynthApp(
            "dev-plain-node",
            "dev app on plain `.venv/bin/node`, without the options of `.venv/bin/jsii-node`",
            (str(PROJECT_PYTHON), "app.py"),
            {**flags, "env": "dev"},
        ),
        SynthApp(
            "dev-without-nag",
            "dev app without cdk-nag (bench/apps/dev_without_nag)",
            (str(PROJECT_PYTHON), str(without_nag)),
            {**flags, "env": "dev"},
            (*app_option(PROJECT_PYTHON, without_nag), "--context", "env=dev"),
            picks_node=True,
        ),
        SynthApp(
            "bare",
            "bare app: one `sqs.Queue` (bench/apps/bare_queue)",
            (str(PROJECT_PYTHON), str(bare)),
            flags,
            app_option(PROJECT_PYTHON, bare),
        ),
        SynthApp(
            "solutions",
            "Solutions Constructs app: `SqsToLambda` + `LambdaToSqs` (bench/apps/solutions_constructs)",
            (str(BENCH_PYTHON), str(solutions)),
            flags,
            app_option(BENCH_PYTHON, solutions),
        ),
        SynthApp(
            "kit",
            "kit constructs app: `KitQueue` + `ProducerFunction` + `ConsumerFunction` (bench/apps/kit_constructs)",
            (str(PROJECT_PYTHON), str(kit)),
            flags,
            app_option(PROJECT_PYTHON, kit),
        ),
        SynthApp(
            "floor",
            "floor: `import aws_cdk; App()`, no synth",
            (str(PROJECT_PYTHON), "-c", CDK_FLOOR_CODE),
        ),
    ]


def variants(apps: Sequence[SynthApp], modes: Sequence[str]) -> list[Variant]:
    return [Variant(app, mode) for mode in modes for app in apps if mode == PROCESS or app.cli_arguments is not None]


def synth_once(variant: Variant) -> Sample:
    env = base_env()
    if variant.app.picks_node:
        del env["JSII_NODE"]
    outdir = tempfile.mkdtemp(prefix=f"sqs-kit-bench-{variant.app.key}-{variant.mode}-")
    try:
        if variant.mode == PROCESS:
            env["CDK_CONTEXT_JSON"] = json.dumps(variant.app.context)
            env["CDK_OUTDIR"] = outdir
            return run_measured(variant.app.command, env=env, cwd=REPO_ROOT)
        assert variant.app.cli_arguments is not None
        env = {name: value for name, value in env.items() if not name.startswith("AWS_")}
        env.update(OFFLINE_CLI_ENVIRONMENT)
        command = (str(NODE), str(CDK_CLI), "synth", "--quiet", *OFFLINE_CLI_FLAGS, "--output", outdir)
        return run_measured((*command, *variant.app.cli_arguments), env=env, cwd=REPO_ROOT)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def run_synth_benchmark(selected: Sequence[Variant], repeat: int) -> dict[str, list[Sample]]:
    """Synthesize every variant ``repeat`` times, interleaved, after one untimed warm-up round."""
    by_key = {variant.key: variant for variant in selected}
    return run_interleaved(list(by_key), repeat, lambda key: synth_once(by_key[key]))
