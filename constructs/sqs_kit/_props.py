"""Helpers that turn construct props into the values the rules check."""

import ast
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar, cast

from aws_cdk import Annotations, Duration, RemovalPolicy, Token
from constructs import Construct

from .errors import SettingsError
from .rules import Checker

PropValue = TypeVar("PropValue")


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


def typed_prop(checker: Checker, key: str, value: object, types: type | tuple[type, ...], expected: str) -> bool:
    """Check that a prop is an instance of ``types``, and record the problem and return False when it is not.

    ``bool`` passes only where ``bool`` itself is among ``types``, although Python counts it as an int.
    """
    allowed = types if isinstance(types, tuple) else (types,)
    if isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed):
        return True
    checker.fail_type(key, value, expected, f"Pass {expected}.")
    return False


def typed_or(
    checker: Checker, key: str, value: object, *, fallback: PropValue, types: type | tuple[type, ...], expected: str
) -> PropValue:
    """Return a prop that has one of ``types``, or record the problem and return ``fallback``.

    A prop whose fallback is None is optional, so None passes too. The fallback
    only lets the remaining rules run, because the problem stops the construct
    before it creates anything.
    """
    allowed = types if isinstance(types, tuple) else (types,)
    if fallback is None:
        allowed = (*allowed, type(None))
    if typed_prop(checker, key, value, allowed, expected):
        return cast(PropValue, value)
    return fallback


def removal_policy_prop(checker: Checker, value: object, *, fallback: PropValue) -> PropValue | RemovalPolicy:
    """Return a ``removal_policy`` prop. ``None`` passes only for an optional prop, whose ``fallback`` is None."""
    return typed_or(
        checker, "removal_policy", value, fallback=fallback, types=RemovalPolicy, expected="an aws_cdk.RemovalPolicy"
    )


def environment_prop(checker: Checker, value: object) -> dict[str, str]:
    """Return the ``environment`` prop, or {} after recording a problem when it is not a dict of strings."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(item, str) for pair in value.items() for item in pair):
        checker.fail_type("environment", value, "a dict of str to str", "Quote every name and value.")
        return {}
    return value


def strings_prop(checker: Checker, key: str, value: object) -> list[str]:
    """Return a list-of-strings prop as a list, or record the problem and return [] for a lone string or other type."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        checker.fail_type(key, value, "a list of strings", "Pass a list, such as ['111122223333'].")
        return []
    for item in value:
        if not isinstance(item, str):
            checker.fail_type(key, item, "a string", "Quote each entry, such as '111122223333'.")
    return [item for item in value if isinstance(item, str)]


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


def check_handler(code_path: object, handler: object, checker: Checker) -> None:
    """Check that ``code_path`` is a folder and that ``handler`` names a module file in it, as Lambda looks it up."""
    if not typed_prop(checker, "code_path", code_path, (str, os.PathLike), "a folder path (str or pathlib.Path)"):
        return
    assert isinstance(code_path, str | os.PathLike)
    folder = Path(code_path)
    if not folder.is_dir():
        checker.fail(
            "code_path", str(code_path), "must be an existing folder", "Point it at the folder that holds the handler."
        )
        return
    if not typed_prop(checker, "handler", handler, str, "a str, such as 'handler.handler'"):
        return
    assert isinstance(handler, str)
    module, _, function = handler.rpartition(".")
    candidates = [folder / f"{module.replace('.', '/')}.py", folder / module.replace(".", "/") / "__init__.py"]
    if not module or not function:
        checker.fail(
            "handler",
            handler,
            "must be MODULE.FUNCTION",
            "For a file handler.py with def handler, use handler.handler.",
        )
    elif not any(candidate.is_file() for candidate in candidates):
        checker.fail(
            "handler",
            handler,
            f"names module {module!r}, but {candidates[0]} does not exist",
            "Point code_path at the folder that holds the module, or correct the handler.",
        )
    else:
        source = next(candidate for candidate in candidates if candidate.is_file())
        names = _top_level_names(source)
        if names is not None and function not in names:
            checker.fail(
                "handler",
                handler,
                f"names function {function!r}, but {source} defines no top-level name {function!r}",
                "Correct the function name, or define it at the top level of the module.",
            )


def _top_level_names(module_file: Path) -> set[str] | None:
    """Return the names a module binds at top level, or None when only running it would show them.

    None covers a file that does not parse and a star import, which can bind any name.
    """
    try:
        tree = ast.parse(module_file.read_bytes(), filename=str(module_file))
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            if any(alias.name == "*" for alias in statement.names):
                return None
            names.update((alias.asname or alias.name).split(".")[0] for alias in statement.names)
        else:
            # Assignments and definitions inside top-level if/try blocks; a name bound deeper only adds leniency.
            for node in ast.walk(statement):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.alias):
                    names.add((node.asname or node.name).split(".")[0])
    return names


def report(scope: Construct, checker: Checker, warning_id: str) -> None:
    """Raise every problem the checker collected, then add its warnings as construct annotations."""
    if checker.problems:
        raise SettingsError(f"{type(scope).__name__} at {scope.node.path}", checker.problems)
    for message in checker.warnings:
        Annotations.of(scope).add_warning_v2(warning_id, message)
