#!/usr/bin/env python3
"""CDK app entry point: pick the environment's config and synthesize its stack.

Usage: ``cdk synth -c env=prod`` or ``cdk synth -c config=path/to/file.yaml``.
"""

import os
import shutil
import sys
from pathlib import Path

# First found wins. jsii-node runs node with the options that scripts/link_node.py explains.
VENV_NODES = ("jsii-node", "node")


def use_supported_node() -> str | None:
    """Point jsii at the Node.js from the virtual environment unless JSII_NODE is set.

    Return an error message when JSII_NODE names no executable, which jsii would
    report as a traceback. An empty JSII_NODE counts as unset.
    """
    configured_node = os.environ.get("JSII_NODE", "")
    if configured_node:
        if shutil.which(configured_node) is None:
            return (
                f"JSII_NODE is set to {configured_node!r}, which is not an executable. "
                "Unset it to use the Node.js in .venv/bin, or point it at Node.js 22 or newer."
            )
        return None
    os.environ.pop("JSII_NODE", None)
    bin_dir = Path(sys.executable).parent
    for name in VENV_NODES:
        if (bin_dir / name).exists():
            os.environ["JSII_NODE"] = str(bin_dir / name)
            return None
    return None


def main() -> int:
    node_error = use_supported_node()
    if node_error is not None:
        print(node_error, file=sys.stderr)
        return 1
    # Imported here because jsii starts Node.js on import, after JSII_NODE is set.
    from aws_cdk import App  # noqa: PLC0415

    from sqs_kit import SettingsError  # noqa: PLC0415
    from stacks.app_builder import build_app  # noqa: PLC0415

    app = App()
    try:
        build_app(app)
    except SettingsError as error:
        # Invalid settings are the user's to fix: print them without a traceback and write no template.
        print(error, file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
