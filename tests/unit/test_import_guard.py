"""Guard against a local folder or module shadowing an installed package.

Python puts the script's folder (or the current folder) first on ``sys.path``,
so a top-level ``constructs`` package here would replace the library that
aws-cdk-lib imports, and synth would fail inside jsii.
"""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHADOWABLE = ("constructs", "aws_cdk", "jsii", "boto3", "botocore", "moto", "yaml", "pydantic")
# Folders that end up first on sys.path: the repository root (app.py and the CDK CLI) and the test roots.
PATH_ROOTS = (REPO_ROOT, REPO_ROOT / "tests", REPO_ROOT / "tests" / "unit", REPO_ROOT / "tests" / "synth")
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"]).resolve()


@pytest.mark.parametrize("root", PATH_ROOTS, ids=lambda p: str(p.relative_to(REPO_ROOT)) or ".")
def test_no_shadowing_package(root: Path) -> None:
    for name in SHADOWABLE:
        assert not (root / name / "__init__.py").exists(), f"{root / name} shadows the installed '{name}'"
        assert not (root / f"{name}.py").exists(), f"{root / name}.py shadows the installed '{name}'"


def test_constructs_folder_not_a_package() -> None:
    assert not (REPO_ROOT / "constructs" / "__init__.py").exists()


def test_constructs_resolves_installed_in_tests() -> None:
    import constructs  # noqa: PLC0415

    assert constructs.__file__ is not None
    assert Path(constructs.__file__).resolve().is_relative_to(SITE_PACKAGES)


def run_from_root(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True, env=os.environ
    )
    return result.stdout.strip()


def test_constructs_resolves_installed_from_root() -> None:
    # `python -c` puts the current folder first on sys.path, as `python app.py` puts the app's folder.
    location = run_from_root("import constructs; from constructs import Construct; print(constructs.__file__)")
    assert Path(location).resolve().is_relative_to(SITE_PACKAGES)


def test_kit_package_importable_from_root() -> None:
    location = run_from_root("import sqs_kit; print(sqs_kit.__file__)")
    assert Path(location).resolve() == (REPO_ROOT / "constructs" / "sqs_kit" / "__init__.py").resolve()
