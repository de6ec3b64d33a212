"""Lambda asset bundling without Docker: copy the handler folder and pip-install its requirements.

The dependencies are installed once per requirements file and target platform
into a cache folder and copied into each bundle, so repeated synths do not call
the package index again.
"""

import hashlib
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

logger = logging.getLogger(__name__)

REQUIREMENTS_FILE = "requirements.txt"
# Files that never belong in a deployed function.
IGNORED_NAMES = ("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")


def cache_root() -> Path:
    """Return the folder that keeps installed dependencies between synths: ``SQS_KIT_CACHE_DIR`` or the user cache."""
    configured = os.environ.get("SQS_KIT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sqs-kit" / "lambda-dependencies"


def pip_platform(architecture: lambda_.Architecture) -> str:
    return "manylinux2014_aarch64" if architecture.name == lambda_.Architecture.ARM_64.name else "manylinux2014_x86_64"


def install_requirements(requirements: Path, *, platform: str, python_version: str) -> Path:
    """Install a requirements file for the Lambda platform into the cache and return that folder.

    Only binary wheels are accepted, so nothing is compiled for the wrong
    platform. Raises ``RuntimeError`` with pip's output when pip fails.
    """
    key = hashlib.sha256(requirements.read_bytes() + f"{platform} {python_version}".encode()).hexdigest()[:16]
    target = cache_root() / key
    if (target / ".complete").exists():
        return target
    partial = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--requirement", str(requirements), "--target", str(partial),
        "--platform", platform, "--implementation", "cp", "--python-version", python_version,
        "--only-binary=:all:",
    ]  # fmt: skip
    logger.debug("Installing %s into %s", requirements, partial)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise RuntimeError(f"pip could not install {requirements} for {platform}:\n{result.stderr.strip()}")
    (partial / ".complete").touch()
    try:
        partial.rename(target)
    except OSError:
        # Another process finished the same install first; its copy is identical.
        shutil.rmtree(partial, ignore_errors=True)
    return target


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Bundle a handler folder on this machine, so synth needs no Docker."""

    def __init__(self, source: Path, *, platform: str, python_version: str) -> None:
        self.source = source
        self.platform = platform
        self.python_version = python_version

    def try_bundle(self, output_dir: str, options: Any) -> bool:
        output = Path(output_dir)
        shutil.copytree(self.source, output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*IGNORED_NAMES))
        requirements = self.source / REQUIREMENTS_FILE
        if requirements.exists():
            installed = install_requirements(requirements, platform=self.platform, python_version=self.python_version)
            shutil.copytree(
                installed, output, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete", *IGNORED_NAMES)
            )
        return True


def python_code(
    source: str | os.PathLike[str], *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.Code:
    """Return Lambda code for a handler folder, with the packages of its ``requirements.txt`` bundled in.

    The asset hash is computed from the source folder, so it changes when a
    handler or its requirements change, not when the cache is rebuilt.
    """
    folder = Path(source).resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"Lambda code folder not found: {folder}")
    python_version = runtime.name.removeprefix("python")
    local = LocalPipBundling(folder, platform=pip_platform(architecture), python_version=python_version)
    return lambda_.Code.from_asset(
        str(folder),
        asset_hash_type=AssetHashType.SOURCE,
        exclude=list(IGNORED_NAMES),
        bundling=BundlingOptions(
            # Not pulled: LocalPipBundling.try_bundle returns True or raises, so CDK never falls back to Docker.
            image=DockerImage.from_registry("sqs-kit-local-bundling-only"),
            # jsii passes the options struct positionally, unlike the generated keyword signature.
            local=local,  # type: ignore[arg-type]
        ),
    )


__all__: Sequence[str] = ("LocalPipBundling", "install_requirements", "python_code")
