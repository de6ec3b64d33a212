"""Helpers that turn construct props into the values the rules check."""

from collections.abc import Mapping

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


def report(scope: Construct, checker: Checker, warning_id: str) -> None:
    """Raise every problem the checker collected, then add its warnings as construct annotations."""
    if checker.problems:
        raise SettingsError(f"{type(scope).__name__} at {scope.node.path}", checker.problems)
    for message in checker.warnings:
        Annotations.of(scope).add_warning_v2(warning_id, message)
