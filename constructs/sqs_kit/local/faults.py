"""Choose which drill messages carry which fault, and build their bodies.

Poison messages use the consumer's own hook (``"fail": true``) and malformed
ones are bodies that are not JSON, which the consumer fails record by record.
Transient and slow faults have no hook in the consumer, so their bodies carry
a ``"drill"`` object that ``worker.py`` acts on around the real handler (see
its docstring). Every body contains the message's run id, so the runner can
find it in the body, the dead-letter queue and the report.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Transient messages fail on their first one or two receives, then succeed.
TRANSIENT_FAILED_RECEIVES = (1, 2)


class Fault(enum.Enum):
    """The fault a drill message injects into the consumer."""

    NONE = "none"
    TRANSIENT = "transient"
    POISON = "poison"
    MALFORMED = "malformed"
    SLOW = "slow"


@dataclass(frozen=True)
class FaultMix:
    """Shares of the messages that get each fault; ``duplicates`` is independent of the others."""

    transient: float = 0.0
    poison: float = 0.0
    malformed: float = 0.0
    slow: float = 0.0
    duplicates: float = 0.0

    def problems(self) -> list[str]:
        """Return every invalid share, with the option name and the allowed range."""
        problems = [
            f"--{name} {value!r}: expected a fraction from 0 to 1, for example 0.3"
            for name, value in vars(self).items()
            if not 0.0 <= value <= 1.0
        ]
        exclusive = self.transient + self.poison + self.malformed + self.slow
        if exclusive > 1.0:
            problems.append(
                f"--transient, --poison, --malformed and --slow add up to {exclusive:g}: each message gets at most "
                "one of them, so their sum must be at most 1"
            )
        return problems


@dataclass(frozen=True)
class FaultPlan:
    """The fault of each message id, how many receives each transient one fails, and the ids sent twice."""

    faults: dict[str, Fault]
    failed_receives: dict[str, int] = field(default_factory=dict)
    duplicates: frozenset[str] = frozenset()

    def ids_with(self, fault: Fault) -> set[str]:
        """Return the ids that carry ``fault``."""
        return {message_id for message_id, found in self.faults.items() if found is fault}

    def body(self, message_id: str) -> str | dict[str, Any]:
        """Return the producer body of ``message_id`` for its fault."""
        fault = self.faults.get(message_id, Fault.NONE)
        if fault is Fault.MALFORMED:
            return f"not JSON: {message_id}"
        body: dict[str, Any] = {"order_id": message_id}
        if fault is Fault.POISON:
            body["fail"] = True
        elif fault is Fault.TRANSIENT:
            # The worker lets the record through from this receive on.
            body["drill"] = {"fail_until_receive": self.failed_receives[message_id] + 1}
        elif fault is Fault.SLOW:
            body["drill"] = {"sleep_on_first_receive": True}
        return body


def plan_faults(ids: Sequence[str], mix: FaultMix, seed: int) -> FaultPlan:
    """Assign faults to exact shares of ``ids`` (rounded), at random but reproducibly for a ``seed``."""
    generator = random.Random(seed)
    shuffled = list(ids)
    generator.shuffle(shuffled)
    faults = dict.fromkeys(ids, Fault.NONE)
    start = 0
    for fault, share in (
        (Fault.POISON, mix.poison),
        (Fault.MALFORMED, mix.malformed),
        (Fault.SLOW, mix.slow),
        (Fault.TRANSIENT, mix.transient),
    ):
        count = round(share * len(ids))
        for message_id in shuffled[start : start + count]:
            faults[message_id] = fault
        start += count
    failed_receives = {
        message_id: generator.choice(TRANSIENT_FAILED_RECEIVES)
        for message_id in ids
        if faults[message_id] is Fault.TRANSIENT
    }
    duplicates = frozenset(generator.sample(list(ids), round(mix.duplicates * len(ids))))
    return FaultPlan(faults=faults, failed_receives=failed_receives, duplicates=duplicates)


__all__ = ["Fault", "FaultMix", "FaultPlan", "plan_faults"]
