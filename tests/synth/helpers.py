"""Synthesize the app's stacks and small test stacks, and query their templates."""

from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from stacks.app_builder import build_app

Resources = dict[str, dict[str, Any]]


def synth_env(env: str) -> tuple[Template, Stack]:
    """Synthesize the messaging stack of ``config/<env>.yaml``."""
    app = App(context={"env": env})
    stack = build_app(app)
    return Template.from_stack(stack), stack


def synth_config(path: Path) -> tuple[Template, Stack]:
    """Synthesize the messaging stack of any config file."""
    app = App(context={"config": str(path)})
    stack = build_app(app)
    return Template.from_stack(stack), stack


def resources_of_type(template: Template, resource_type: str) -> Resources:
    return dict(template.find_resources(resource_type))


def only_resource(template: Template, resource_type: str, **match: Any) -> tuple[str, dict[str, Any]]:
    """Return the one resource of a type whose properties include ``match``; fail when there is not exactly one."""
    found = [
        (logical_id, resource)
        for logical_id, resource in resources_of_type(template, resource_type).items()
        if all(resource.get("Properties", {}).get(key) == value for key, value in match.items())
    ]
    assert len(found) == 1, f"expected one {resource_type} matching {match}, found {len(found)}"
    return found[0]


def policy_statements(template: Template, role_logical_prefix: str) -> list[dict[str, Any]]:
    """Return every statement of the IAM policies attached to roles whose logical id starts with a prefix."""
    statements: list[dict[str, Any]] = []
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        roles = policy["Properties"]["Roles"]
        if any(role["Ref"].startswith(role_logical_prefix) for role in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions_of(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def minimal_handler_dir(tmp_path: Path) -> Path:
    """Write a handler folder with no requirements, so small test stacks bundle in milliseconds."""
    folder = tmp_path / "handler"
    folder.mkdir(exist_ok=True)
    (folder / "handler.py").write_text("def handler(event, context):\n    return {'batchItemFailures': []}\n")
    return folder
