"""Render results as console tables and as the generated sections of docs/benchmarks.md."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stats import Summary

MIB = 1024**2
DEV_OVER_BARE_MAX = 1.5
HANDLER_OVER_BOTO3_MAX = 1.1


@dataclass(frozen=True)
class Row:
    """One line of a result table: a label and its cells."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Target:
    """A target ratio and how the measurement compares with it."""

    description: str
    ratio: float
    limit: float
    detail: str
    # False when the ratio must stay strictly below the limit ("faster than").
    inclusive: bool = True

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit if self.inclusive else self.ratio < self.limit


def seconds(summary: Summary) -> str:
    return f"{summary.median:.3f} ({summary.minimum:.3f}-{summary.maximum:.3f})"


def mebibytes(summary: Summary) -> str:
    return f"{summary.median / MIB:.0f} ({summary.minimum / MIB:.0f}-{summary.maximum / MIB:.0f})"


def markdown_table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join((row.label, *row.cells)) + " |" for row in rows]
    return "\n".join(lines)


def console_table(headers: Sequence[str], rows: Sequence[Row]) -> str:
    table = [list(headers), *[[row.label, *row.cells] for row in rows]]
    widths = [max(len(line[column]) for line in table) for column in range(len(headers))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in table)


def target_lines(targets: Sequence[Target]) -> str:
    lines = []
    for target in targets:
        verdict = "met" if target.met else "NOT met"
        lines.append(f"- {target.description}: {verdict}. {target.detail}")
    return "\n".join(lines)


def replace_section(page: str, name: str, content: str) -> str:
    """Return ``page`` with the generated section ``name`` set to ``content``, appended if the page lacks it."""
    begin, end = f"<!-- BEGIN generated:{name} -->", f"<!-- END generated:{name} -->"
    block = f"{begin}\n{content.strip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(page):
        return pattern.sub(lambda _: block, page)
    return f"{page.rstrip()}\n\n{block}\n"
