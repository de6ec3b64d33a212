"""The config reference and JSON Schema in docs/ match the settings models, and the schema checks real files."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from sqs_kit.reference import config_reference, config_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
REGENERATE = "run `.venv/bin/python scripts/generate_config_docs.py` and commit the result"


def test_reference_up_to_date() -> None:
    assert (DOCS / "config-reference.md").read_text() == config_reference(), REGENERATE


def test_schema_up_to_date() -> None:
    assert json.loads((DOCS / "config.schema.json").read_text()) == config_schema(), REGENERATE


def test_reference_lists_every_range() -> None:
    reference = config_reference()
    assert "| `retention` | duration | `4d` | 1 min (60 s) to 14 d (1,209,600 s) |" in reference
    assert "| `max_concurrency` | integer | `10` | 2 to 1,000 |" in reference


@pytest.mark.parametrize("path", sorted((REPO_ROOT / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_match_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), config_schema())


@pytest.mark.parametrize(
    ("key", "value"),
    [("retention", "4"), ("receive_wait", 20), ("colour", "blue")],
    ids=["duration-without-unit", "duration-as-number", "unknown-key"],
)
def test_schema_rejects_invalid(key: str, value: object) -> None:
    document = {"removal_policy": "destroy", "queues": {"orders": {key: value}}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, config_schema())


def test_schema_rejects_memory_out_of_range() -> None:
    document = {"removal_policy": "destroy", "queues": {"orders": {"consumer": {"memory_mb": 64}}}}
    with pytest.raises(jsonschema.ValidationError, match="64 is less than the minimum of 128"):
        jsonschema.validate(document, config_schema())
