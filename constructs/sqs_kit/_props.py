"""Helpers that turn construct props into the values the rules check."""

import os
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Annotations, Duration, Token
from constructs import Construct

from .errors import SettingsError
from .rules import Checker


def seconds_of(duration: Duration | None) -> float | None:
    """Return a duration in seconds, or None when omitted or an unresolved token.

    Fractional seconds are returned as they are, so that the rules can reject them with a message.
    """
    if duration is None:
        return None
    seconds = duration.to_seconds(integral=False)
    if Token.is_unresolved(seconds):
        return None
    return int(seconds) if float(seconds).is_integer() else float(seconds)


def given_or(value: int | None, default: int) -> int:
    """Return ``value`` unless it was omitted; unlike ``value or default`` this keeps an invalid 0 for the rules."""
    return default if value is None else value


def number_of(value: float | None) -> int | None:
    """Return a number prop, or None when omitted or an unresolved token."""
    if value is None or Token.is_unresolved(value):
        return None
    return int(value)


# Canonical setting keys whose values are durations in seconds.
DURATION_KEY_SUFFIXES = ("retention", "timeout", "delay", "wait", "window")


def prop_checker(prop_names: Mapping[str, str]) -> Checker:
    """Make a checker that names settings by the construct's prop names and shows durations in seconds."""

    def label(key: str) -> str:
        return prop_names.get(key, key)

    def show(key: str, value: object) -> str:
        unit = " s" if key.endswith(DURATION_KEY_SUFFIXES) else ""
        return f"{value}{unit}"

    return Checker(label=label, show=show)


def check_handler(code_path: str | os.PathLike[str], handler: str, checker: Checker) -> None:
    """Check that ``handler`` names a function in a module file under ``code_path``, as Lambda will look it up."""
    module, _, function = handler.rpartition(".")
    folder = Path(code_path)
    candidates = [folder / f"{module.replace('.', '/')}.py", folder / module.replace(".", "/") / "__init__.py"]
    if not module or not function:
        checker.fail(
            "handler",
            handler,
            "must be MODULE.FUNCTION",
            "For a file handler.py with def handler, use handler.handler.",
        )
    elif folder.is_dir() and not any(candidate.is_file() for candidate in candidates):
        checker.fail(
            "handler",
            handler,
            f"names module {module!r}, but {candidates[0]} does not exist",
            "Point code_path at the folder that holds the module, or correct the handler.",
        )


def report(scope: Construct, checker: Checker, warning_id: str) -> None:
    """Raise every problem the checker collected, then add its warnings as construct annotations."""
    if checker.problems:
        raise SettingsError(f"{type(scope).__name__} at {scope.node.path}", checker.problems)
    for message in checker.warnings:
        Annotations.of(scope).add_warning_v2(warning_id, message)
