"""Pick a config file from CDK context and build the app's stack from it."""

import re
from pathlib import Path

from aws_cdk import App

from sqs_kit import Problem, SettingsError
from sqs_kit.config import load_settings

from .messaging_stack import MessagingStack

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_ENV = "dev"
ENV_NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
ENV_NAME_FIX = "Use -c config=PATH for a config file elsewhere."


def config_path(app: App) -> tuple[str, Path]:
    """Return the environment name and config file chosen by ``-c config=PATH`` or ``-c env=NAME``."""
    explicit = app.node.try_get_context("config")
    if explicit:
        path = Path(str(explicit))
        return path.stem, path
    env = str(app.node.try_get_context("env") or DEFAULT_ENV)
    # A name, not a path: "../x" or "a/b" would read a file outside config/.
    if not ENV_NAME_PATTERN.fullmatch(env):
        problem = Problem(
            "env", repr(env), "must be the name of a file in config/: letters, digits, '-' and '_'", ENV_NAME_FIX
        )
        raise SettingsError("-c env", [problem])
    return env, CONFIG_DIR / f"{env}.yaml"


def build_stack(app: App) -> MessagingStack:
    """Validate the chosen config and add its messaging stack to ``app``; raise ``SettingsError`` if invalid."""
    env, path = config_path(app)
    settings = load_settings(path)
    # A file name may hold characters a stack name cannot, such as "_" in "team_a.yaml".
    stack_name = settings.stack_name or "sqs-kit-" + re.sub(r"[^A-Za-z0-9-]+", "-", env)
    return MessagingStack(
        app,
        stack_name,
        settings=settings,
        description=f"sqs-kit messaging stack for the '{env}' environment ({path.name})",
    )


def build_app(app: App) -> MessagingStack:
    """Build the messaging stack as ``build_stack`` does and make cdk-nag check it at synth."""
    # Imported here so that build_stack alone does not load cdk-nag's JavaScript,
    # because the synth benchmark measures the stack with and without the checks.
    from .checks import add_nag_checks  # noqa: PLC0415

    stack = build_stack(app)
    add_nag_checks(app)
    return stack
