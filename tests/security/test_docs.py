"""docs/security.md names every finding the constructs accept."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCES = (
    "constructs/sqs_kit/function.py",
    "constructs/sqs_kit/queue.py",
    "constructs/sqs_kit/consumer.py",
    "constructs/sqs_kit/producer.py",
)
RULE_PATTERNS = (
    re.compile(r'"(?:AwsSolutions|Serverless)::((?:AwsSolutions|Serverless)-[A-Za-z0-9]+)'),
    re.compile(r'skip_checkov\([^,]+, "(CKV_AWS_\d+)"'),
    re.compile(r'ignore_cfn_lint\([^,]+, "([A-Z]+\d+)"'),
)


def accepted_rules() -> set[str]:
    rules: set[str] = set()
    for source in SOURCES:
        text = (REPO_ROOT / source).read_text()
        for pattern in RULE_PATTERNS:
            rules.update(pattern.findall(text))
    return rules


def test_security_doc_lists_every_rule() -> None:
    rules = accepted_rules()
    assert len(rules) >= 10
    doc = (REPO_ROOT / "docs" / "security.md").read_text()
    missing = sorted(rule for rule in rules if f"`{rule}" not in doc)
    assert missing == []
