"""Summaries of repeated measurements and the round-robin schedule that produces them."""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

Result = TypeVar("Result")


@dataclass(frozen=True)
class Summary:
    """Median and spread of one measurement over ``n`` runs."""

    median: float
    minimum: float
    maximum: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Summary":
        return cls(statistics.median(values), min(values), max(values), len(values))


def run_interleaved(keys: Sequence[str], repeat: int, run_one: Callable[[str], Result]) -> dict[str, list[Result]]:
    """Run every key once untimed, then ``repeat`` rounds of every key, and return the timed results per key.

    Each round starts one key later than the previous one, so no variant always
    runs first or right after the same neighbour.
    """
    for key in keys:
        run_one(key)
    results: dict[str, list[Result]] = {key: [] for key in keys}
    for round_index in range(repeat):
        shift = round_index % len(keys)
        for key in [*keys[shift:], *keys[:shift]]:
            results[key].append(run_one(key))
    return results
