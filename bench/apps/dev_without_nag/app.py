"""Comparison app for the synth benchmark: the dev app without cdk-nag.

It builds the dev app's stack with ``stacks.app_builder.build_stack`` and starts
jsii's Node.js as ``app.py`` does, but registers no cdk-nag pack and never
imports cdk-nag. Measured next to the dev app, it shows what running cdk-nag
at every synth costs.
"""

import importlib.util
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPOSITORY))


def pick_node() -> None:
    """Choose jsii's Node.js with the dev app's own rule (``use_supported_node`` in app.py)."""
    spec = importlib.util.spec_from_file_location("sqs_kit_app", REPOSITORY / "app.py")
    assert spec is not None and spec.loader is not None
    kit_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kit_app)
    error = kit_app.use_supported_node()
    if error is not None:
        sys.exit(error)


def main() -> None:
    pick_node()
    # Imported after pick_node: jsii starts Node.js when aws_cdk is imported.
    from aws_cdk import App  # noqa: PLC0415

    from sqs_kit import SettingsError  # noqa: PLC0415
    from stacks.app_builder import build_stack  # noqa: PLC0415

    app = App()
    try:
        build_stack(app)
    except SettingsError as error:
        sys.exit(str(error))
    app.synth()


if __name__ == "__main__":
    main()
