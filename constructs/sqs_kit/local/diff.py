"""``sqs-kit diff``: compare freshly synthesized templates with the committed snapshots, offline.

Every ``config/<env>.yaml`` that has ``tests/synth/snapshots/<env>.template.json``
is synthesized with ``python app.py`` and normalised as the snapshot test does
(``normalise`` is shared with it). The report lists IAM changes first, then
changes that make CloudFormation replace a resource, then the rest, each as a
logical id and type with every changed property path and its old and new value.

Exit codes: 0 when no template changed, 1 when one did (CI then requires the
snapshot update), 2 when a template could not be synthesized or read.
"""

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

logger = logging.getLogger(__name__)

SNAPSHOT_DIR = Path("tests") / "synth" / "snapshots"
SNAPSHOT_SUFFIX = ".template.json"
CONFIG_DIR = Path("config")
# Asset hashes are SHA-256 hex digests of the handler folders, so a comment edit would change them.
ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
ASSET_HASH_PLACEHOLDER = "<asset-hash>"
CDK_METADATA_TYPE = "AWS::CDK::Metadata"
SYNTH_TIMEOUT_SECONDS = 300
VALUE_PREVIEW_CHARACTERS = 200
EXIT_UNCHANGED, EXIT_CHANGED, EXIT_ERROR = 0, 1, 2

# Properties whose update makes CloudFormation replace the resource, from the "Update requires: Replacement"
# lines of the CloudFormation resource reference, for the types the kit emits.
REPLACEMENT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    # A new queue starts empty: the old queue's messages are deleted with it.
    "AWS::SQS::Queue": ("QueueName", "FifoQueue"),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::IAM::Role": ("RoleName", "Path"),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::SSM::Parameter": ("Name",),
    # NOTE: FunctionName of a mapping updates in place as far as we know; only the event source replaces it.
    "AWS::Lambda::EventSourceMapping": ("EventSourceArn",),
    # NOTE: a key has no name property; KeySpec and KeyUsage changes are believed to replace it (unchecked).
    "AWS::KMS::Key": ("KeySpec", "KeyUsage"),
}
# Resources that hold data: removing one from the template deletes it (unless its DeletionPolicy retains it).
STATEFUL_TYPES = frozenset({"AWS::SQS::Queue", "AWS::KMS::Key", "AWS::Logs::LogGroup"})
IAM_TYPES = frozenset({"AWS::SQS::QueuePolicy", "AWS::Lambda::Permission", "AWS::KMS::Alias"})
POLICY_KEYS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument", "KeyPolicy", "Policies", "ManagedPolicyArns"})


class DiffError(RuntimeError):
    """A template could not be synthesized or a snapshot could not be read."""


def normalise(template: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``template`` with asset hashes replaced and CDK's version-specific analytics resource dropped."""
    resources = {key: value for key, value in template["Resources"].items() if value["Type"] != CDK_METADATA_TYPE}
    normalised_template = {**template, "Resources": resources}
    normalised_template.pop("Conditions", None)  # Only CDKMetadata's region condition lives here.
    text = ASSET_HASH.sub(ASSET_HASH_PLACEHOLDER, json.dumps(normalised_template, indent=2, sort_keys=True))
    normalised: dict[str, Any] = json.loads(text)
    return normalised


def render_snapshot(template: Mapping[str, Any]) -> str:
    """Return the snapshot file text of a template: normalised, sorted, two-space indented."""
    return json.dumps(normalise(template), indent=2, sort_keys=True) + "\n"


# --- comparing -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyChange:
    """One changed value: its path in the resource, and its old and new value (None when absent)."""

    path: str
    old: Any
    new: Any


@dataclass
class ResourceChange:
    """An added, removed or changed resource, or ``Template`` for a change outside ``Resources``."""

    logical_id: str
    resource_type: str
    kind: str
    changes: list[PropertyChange] = field(default_factory=list)

    @property
    def replacement_paths(self) -> list[str]:
        """Return the changed paths that make CloudFormation replace this resource."""
        names = REPLACEMENT_PROPERTIES.get(self.resource_type, ())
        prefixes = [f"Properties.{name}" for name in names]
        return [
            change.path
            for change in self.changes
            if any(change.path == prefix or change.path.startswith(prefix + ".") for prefix in prefixes)
        ]

    @property
    def replaces(self) -> bool:
        """Return whether applying this change deletes a resource: a replacement, or a removed stateful one."""
        if self.kind == "removed":
            return self.resource_type in STATEFUL_TYPES
        return bool(self.replacement_paths)

    @property
    def touches_iam(self) -> bool:
        """Return whether this change alters who may do what: an IAM resource or any policy document."""
        if self.resource_type.startswith("AWS::IAM::") or self.resource_type in IAM_TYPES:
            return True
        return any(POLICY_KEYS & set(re.split(r"[.\[]", change.path)) for change in self.changes)


@dataclass
class TemplateDiff:
    """The changes of one environment's template against its snapshot."""

    env: str
    snapshot: Path
    resources: list[ResourceChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Return whether anything differs."""
        return bool(self.resources)


def compare_values(old: Any, new: Any, path: str) -> Iterator[PropertyChange]:
    """Yield the differences between ``old`` and ``new``.

    Lists of objects (policy statements) are compared item by item. A list of
    plain values (IAM actions) is one value, so a reordered list reads as one change.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            yield from compare_values(old.get(key), new.get(key), child)
    elif isinstance(old, list) and isinstance(new, list) and not (_scalars(old) and _scalars(new)):
        for index in range(max(len(old), len(new))):
            yield from compare_values(
                old[index] if index < len(old) else None, new[index] if index < len(new) else None, f"{path}[{index}]"
            )
    elif old != new:
        yield PropertyChange(path=path, old=old, new=new)


def _scalars(values: list[Any]) -> bool:
    return all(not isinstance(value, dict | list) for value in values)


def compare_templates(env: str, snapshot: Path, old: Mapping[str, Any], new: Mapping[str, Any]) -> TemplateDiff:
    """Return the resource and template-level changes from ``old`` (the snapshot) to ``new``."""
    result = TemplateDiff(env=env, snapshot=snapshot)
    old_resources: Mapping[str, Any] = old.get("Resources", {})
    new_resources: Mapping[str, Any] = new.get("Resources", {})
    for logical_id in sorted(set(old_resources) | set(new_resources)):
        if logical_id not in old_resources:
            result.resources.append(ResourceChange(logical_id, new_resources[logical_id]["Type"], "added"))
        elif logical_id not in new_resources:
            result.resources.append(ResourceChange(logical_id, old_resources[logical_id]["Type"], "removed"))
        else:
            after = new_resources[logical_id]
            changes = list(compare_values(old_resources[logical_id], after, ""))
            if changes:
                result.resources.append(ResourceChange(logical_id, after["Type"], "changed", changes))
    other_old = {key: value for key, value in old.items() if key != "Resources"}
    other_new = {key: value for key, value in new.items() if key != "Resources"}
    template_changes = list(compare_values(other_old, other_new, ""))
    if template_changes:
        result.resources.append(
            ResourceChange("Template", "(outputs, parameters, description)", "changed", template_changes)
        )
    return result


# --- reporting -------------------------------------------------------------------------------------------------------


def format_diff(diff: TemplateDiff) -> list[str]:
    """Return the report lines of one environment: IAM first, then replacements, then other changes."""
    if not diff.changed:
        return []
    sections = (
        ("IAM and policy changes (review first)", [change for change in diff.resources if change.touches_iam]),
        (
            "Replacements and deletions (the resource is deleted; a queue loses its messages)",
            [change for change in diff.resources if change.replaces],
        ),
        (
            "Other changes",
            [change for change in diff.resources if not change.touches_iam and not change.replaces],
        ),
    )
    lines = [f"== {diff.env}: template differs from {diff.snapshot} =="]
    for title, changes in sections:
        if not changes:
            continue
        lines.append(f"-- {title}")
        for change in changes:
            lines.extend(_resource_lines(change))
    return lines


def _resource_lines(change: ResourceChange) -> list[str]:
    header = f"  {change.logical_id} ({change.resource_type}) {change.kind}"
    if change.replacement_paths:
        header += f"; replaced because of {', '.join(change.replacement_paths)}"
    lines = [header]
    lines.extend(f"    {item.path}: {_preview(item.old)} -> {_preview(item.new)}" for item in change.changes)
    return lines


def _preview(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= VALUE_PREVIEW_CHARACTERS else text[:VALUE_PREVIEW_CHARACTERS] + "..."


def format_summary(diffs: Sequence[TemplateDiff]) -> str:
    """Return the closing line: what changed and what to do."""
    changed = [diff for diff in diffs if diff.changed]
    if not changed:
        return f"No template changes in {', '.join(diff.env for diff in diffs)}."
    counts = ", ".join(f"{diff.env}: {len(diff.resources)} changed" for diff in changed)
    return f"Templates changed ({counts}). Review the changes above, then run `make snapshots` and commit them."


# --- synthesizing ----------------------------------------------------------------------------------------------------


def environments(app_dir: Path, requested: Sequence[str] = ()) -> list[str]:
    """Return the environments to compare: ``requested``, else every config file with a snapshot."""
    if not (app_dir / "app.py").is_file():
        raise DiffError(f"No app.py in {app_dir}. Run from the sqs-kit folder or pass --app-dir DIR.")
    if requested:
        missing = [env for env in requested if not snapshot_path(app_dir, env).exists()]
        if missing:
            raise DiffError(
                f"No snapshot for {', '.join(missing)} in {app_dir / SNAPSHOT_DIR}. "
                "Add the environment to tests/synth/test_snapshots.py and run `make snapshots`."
            )
        return list(requested)
    found = sorted(
        path.stem for path in (app_dir / CONFIG_DIR).glob("*.yaml") if snapshot_path(app_dir, path.stem).exists()
    )
    if not found:
        raise DiffError(f"No config file in {app_dir / CONFIG_DIR} has a snapshot in {app_dir / SNAPSHOT_DIR}.")
    return found


def snapshot_path(app_dir: Path, env: str) -> Path:
    """Return the snapshot file of ``env``."""
    return app_dir / SNAPSHOT_DIR / f"{env}{SNAPSHOT_SUFFIX}"


def synthesize(app_dir: Path, env: str) -> dict[str, Any]:
    """Run ``python app.py`` for ``env`` in ``app_dir`` and return its single stack's template."""
    with tempfile.TemporaryDirectory(prefix=f"sqs-kit-diff-{env}-") as output:
        environment = dict(os.environ)
        # The CDK App reads its output folder and context from these variables, as when the CLI runs it.
        environment.update({"CDK_OUTDIR": output, "CDK_CONTEXT_JSON": json.dumps({"env": env})})
        try:
            completed = subprocess.run(
                [sys.executable, "app.py"],
                cwd=app_dir,
                env=environment,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=SYNTH_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise DiffError(f"Synth of {env} in {app_dir} timed out after {SYNTH_TIMEOUT_SECONDS} s.") from error
        if completed.returncode != 0:
            raise DiffError(
                f"Synth of {env} failed with exit code {completed.returncode} in {app_dir}:\n"
                f"{completed.stderr.strip()[-4000:]}"
            )
        return _only_template(Path(output), env)


def _only_template(output: Path, env: str) -> dict[str, Any]:
    templates = sorted(output.glob("*.template.json"))
    if len(templates) != 1:
        raise DiffError(f"Expected one stack template for {env} in the cloud assembly, found {len(templates)}.")
    template: dict[str, Any] = json.loads(templates[0].read_text())
    return template


def read_snapshot(path: Path) -> dict[str, Any]:
    """Return the parsed snapshot at ``path``. Raise ``DiffError`` when it is unreadable."""
    try:
        snapshot: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DiffError(
            f"Snapshot {path} is not readable JSON ({error}). Restore it or run `make snapshots`."
        ) from error
    return snapshot


def diff_environments(app_dir: Path, envs: Sequence[str], *, update: bool = False) -> list[TemplateDiff]:
    """Synthesize ``envs`` in parallel and compare each with its snapshot; with ``update``, rewrite changed ones."""
    # Each synth is a separate Node.js-backed process, so threads only wait on them.
    with ThreadPoolExecutor(max_workers=max(1, min(len(envs), os.cpu_count() or 1))) as pool:
        templates = dict(zip(envs, pool.map(lambda env: synthesize(app_dir, env), envs), strict=True))
    diffs = []
    for env in envs:
        path = snapshot_path(app_dir, env)
        diff = compare_templates(env, path, read_snapshot(path), normalise(templates[env]))
        if update and diff.changed:
            path.write_text(render_snapshot(templates[env]))
            logger.info("Updated %s", path)
        diffs.append(diff)
    return diffs


def print_report(diffs: Sequence[TemplateDiff], stream: TextIO) -> None:
    """Write every changed environment's sections and the summary line to ``stream``."""
    for diff in diffs:
        lines = format_diff(diff)
        if lines:
            stream.write("\n".join(lines) + "\n\n")
    stream.write(format_summary(diffs) + "\n")


def register_diff(commands: Any) -> None:
    """Add the ``diff`` sub-parser to the ``sqs-kit`` command's sub-parsers."""
    parser = commands.add_parser(
        "diff",
        help="compare synthesized templates with the committed snapshots",
        description="Synthesize every environment that has a snapshot and print each changed resource, IAM and "
        "replacement-causing changes first. Offline. Exits 0 when nothing changed, 1 when something did, 2 on error.",
    )
    parser.add_argument("--app-dir", type=Path, default=Path.cwd(), help="folder with app.py, config/ and tests/synth")
    parser.add_argument("--env", action="append", default=[], help="compare only this environment; repeatable")
    parser.add_argument(
        "--update", action="store_true", help="rewrite the changed snapshots, as `make snapshots` does, and exit 0"
    )
    parser.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Run ``sqs-kit diff`` and return 0 (unchanged), 1 (changed) or 2 (error)."""
    app_dir = args.app_dir.resolve()
    try:
        diffs = diff_environments(app_dir, environments(app_dir, args.env), update=args.update)
    except DiffError as error:
        logger.error("%s", error)
        return EXIT_ERROR
    print_report(diffs, sys.stdout)
    sys.stdout.flush()
    if args.update:
        # The snapshots now match the templates, as after `make snapshots`.
        return EXIT_UNCHANGED
    return EXIT_CHANGED if any(diff.changed for diff in diffs) else EXIT_UNCHANGED


__all__ = [
    "REPLACEMENT_PROPERTIES",
    "DiffError",
    "PropertyChange",
    "ResourceChange",
    "TemplateDiff",
    "compare_templates",
    "diff_environments",
    "format_diff",
    "normalise",
    "register_diff",
    "render_snapshot",
    "run_diff",
]
