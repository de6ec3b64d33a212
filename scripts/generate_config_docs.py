"""Write docs/config-reference.md and docs/config.schema.json from the settings models (``make docs``)."""

import json
from pathlib import Path

from sqs_kit.reference import config_reference, config_schema

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    (DOCS / "config-reference.md").write_text(config_reference())
    (DOCS / "config.schema.json").write_text(json.dumps(config_schema(), indent=2) + "\n")


if __name__ == "__main__":
    main()
