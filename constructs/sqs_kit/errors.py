"""The error every entry point raises for invalid settings."""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One invalid setting: where it is, the value given, the rule it breaks and the fix."""

    setting: str
    value: str
    rule: str
    fix: str
    # The 1-based line in the config file of the setting, or of its closest section when the setting is absent.
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.setting}: {self.value} is invalid: {self.rule}. {self.fix}"


class SettingsError(ValueError):
    """Every invalid setting of one config file or construct, raised together.

    ``problems`` keeps each failure apart so that callers and tests can inspect
    them; the message lists one per line.
    """

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "setting" if count == 1 else "settings"
        lines = [f"{source}: {count} invalid {noun}:"]
        lines.extend(f"  - {problem}" for problem in self.problems)
        super().__init__("\n".join(lines))
