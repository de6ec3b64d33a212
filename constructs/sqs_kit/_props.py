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


DURATION_FIX = "Pass an aws_cdk.Duration, such as Duration.seconds(30) or Duration.days(4)."
NUMBER_FIX = "Pass an int, such as 10."


def duration_prop(checker: Checker, key: str, value: object) -> Duration | None:
    """Return a Duration prop, or None when it is omitted or not a Duration; the checker records the latter."""
    if value is None or isinstance(value, Duration):
        return value
    checker.fail_type(key, value, "an aws_cdk.Duration", DURATION_FIX)
    return None


def number_prop(checker: Checker, key: str, value: object) -> float | None:
    """Return a number prop as given, or None when omitted, an unresolved token or not a number.

    The checker records a value that is not a number. ``bool`` counts as one in
    Python but not here. Fractions are kept, so that the rules reject them
    instead of CloudFormation.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        checker.fail_type(key, value, "a number", NUMBER_FIX)
        return None
    if Token.is_unresolved(value):
        return None
    return value


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
