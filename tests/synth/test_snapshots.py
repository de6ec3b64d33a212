"""Template snapshots of every environment, reviewed in pull requests.

Update them with ``make snapshots`` (``pytest tests/synth --snapshot-update``)
and commit the changed files with the change that caused them.
"""

import difflib
from pathlib import Path

import pytest

from sqs_kit.local.diff import normalise, render_snapshot
from tests.synth.helpers import synth_env

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
ENVIRONMENTS = ("dev", "prod", "mixed")


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, str]:
    template, _ = synth_env(request.param)
    return request.param, render_snapshot(template.to_json())


def test_snapshot_matches(rendered: tuple[str, str], request: pytest.FixtureRequest) -> None:
    env, text = rendered
    path = SNAPSHOT_DIR / f"{env}.template.json"
    if request.config.getoption("--snapshot-update"):
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot for {env}; run `make snapshots` and commit {path}"
    expected = path.read_text()
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), str(path), "synthesized"))
    assert text == expected, f"template of {env} changed; review the diff, then run `make snapshots`:\n{diff[:6000]}"


def test_snapshot_ignores_comment_edit(tmp_path: Path) -> None:
    source = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "a" * 64}}}}}
    edited = {"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "b" * 64}}}}}
    assert normalise(source) == normalise(edited)
