"""Entry point of the benchmarks (`make bench`): prepare .venv-bench, then run bench/cli.py inside it.

Usage: ``.venv/bin/python bench/run.py [--repeat N] [--only synth|imports] [--mode process|cli|both]``.
"""

import hashlib
import os
import subprocess
import sys

from paths import BENCH_PYTHON, BENCH_REQUIREMENTS, BENCH_VENV, PROJECT_PYTHON, in_bench_venv

STAMP = BENCH_VENV / ".requirements-sha256"


def requirements_digest() -> str:
    return hashlib.sha256(BENCH_REQUIREMENTS.read_bytes()).hexdigest()


def ensure_bench_venv() -> None:
    """Create or update .venv-bench from bench/requirements.txt when the file changed since the last install."""
    digest = requirements_digest()
    if BENCH_PYTHON.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    print(f"Installing {BENCH_REQUIREMENTS.name} into {BENCH_VENV.name} ...", file=sys.stderr)
    if not BENCH_PYTHON.exists():
        # Same base interpreter as .venv, so both environments run one Python version.
        subprocess.run([str(PROJECT_PYTHON), "-m", "venv", str(BENCH_VENV)], check=True)
    # --no-deps because the file pins every package; bench/requirements.txt explains why.
    install = [str(BENCH_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    subprocess.run([*install, "--requirement", str(BENCH_REQUIREMENTS)], check=True)
    STAMP.write_text(digest)


def main() -> int:
    if not in_bench_venv():
        ensure_bench_venv()
        os.execv(BENCH_PYTHON, [str(BENCH_PYTHON), __file__, *sys.argv[1:]])
    # Imported only inside .venv-bench, because the benchmark modules need psutil, which .venv lacks.
    from cli import run  # noqa: PLC0415

    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
