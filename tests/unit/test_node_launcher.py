"""The Node.js that jsii runs: scripts/link_node.py writes a launcher, and app.py picks it."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_by_path(name: str, path: Path) -> ModuleType:
    """Import a script that is not part of a package (``scripts/`` and ``app.py`` are not)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def link_node() -> ModuleType:
    return load_by_path("link_node", REPO_ROOT / "scripts" / "link_node.py")


@pytest.fixture(scope="module")
def app_module() -> ModuleType:
    return load_by_path("sqs_kit_app", REPO_ROOT / "app.py")


def test_launcher_passes_its_options_to_node(link_node: ModuleType, tmp_path: Path) -> None:
    link_node.main(str(tmp_path))
    launcher = tmp_path / link_node.JSII_LAUNCHER
    # A V8 option that this Node.js no longer supports makes it exit with "bad option" before running anything.
    result = subprocess.run(
        [str(launcher), "-p", "JSON.stringify(process.execArgv)"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["--wasm-tiering-budget=1300000000","-p","JSON.stringify(process.execArgv)"]'
    assert (tmp_path / "node").resolve() == link_node.NODE.resolve()


def test_launcher_quotes_the_node_path(link_node: ModuleType) -> None:
    script = link_node.launcher_script(Path("/opt/node js/bin/node"))
    assert script.startswith("#!/bin/sh\n")
    assert "exec '/opt/node js/bin/node' --wasm-tiering-budget=1300000000 \"$@\"\n" in script


@pytest.mark.parametrize(
    ("present", "expected"),
    [(("jsii-node", "node"), "jsii-node"), (("node",), "node"), ((), None)],
    ids=["launcher", "node-only", "neither"],
)
def test_app_picks_the_venv_node(
    app_module: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    present: tuple[str, ...],
    expected: str | None,
) -> None:
    for name in present:
        (tmp_path / name).touch()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.delenv("JSII_NODE", raising=False)
    app_module.use_supported_node()
    if expected is None:
        assert "JSII_NODE" not in app_module.os.environ
    else:
        assert app_module.os.environ["JSII_NODE"] == str(tmp_path / expected)


def test_app_keeps_a_given_jsii_node(app_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured_node = sys.executable
    (tmp_path / "jsii-node").touch()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("JSII_NODE", configured_node)
    assert app_module.use_supported_node() is None
    assert app_module.os.environ["JSII_NODE"] == configured_node


def test_app_treats_empty_jsii_node_as_unset(
    app_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "node").touch()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("JSII_NODE", "")
    assert app_module.use_supported_node() is None
    assert app_module.os.environ["JSII_NODE"] == str(tmp_path / "node")


def test_app_rejects_missing_jsii_node() -> None:
    environment = {**os.environ, "JSII_NODE": "/nonexistent/node"}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "JSII_NODE is set to '/nonexistent/node', which is not an executable. "
        "Unset it to use the Node.js in .venv/bin, or point it at Node.js 22 or newer."
    )
