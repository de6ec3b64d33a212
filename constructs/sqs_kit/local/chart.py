"""Draw a drill's queue depth, messages in flight and dead-letter depth over time as a PNG.

matplotlib is a development dependency only; without it the chart is skipped
with a message, and the drill still reports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

CHART_SIZE_INCHES = (9.0, 4.5)
CHART_DPI = 100


@dataclass(frozen=True)
class Sample:
    """Queue counts summed over the drilled queues at ``seconds`` after the start."""

    seconds: float
    queued: int
    in_flight: int
    dead_letters: int
    processed: int


def write_chart(samples: Sequence[Sample], path: Path, title: str) -> bool:
    """Write the chart to ``path`` and return True, or log why not and return False."""
    try:
        import matplotlib  # noqa: PLC0415 - optional; imported only when a chart is drawn

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        logger.warning("matplotlib is not installed, so no chart was written: pip install 'matplotlib==3.10.*'")
        return False
    seconds = [sample.seconds for sample in samples]
    figure, axes = plt.subplots(figsize=CHART_SIZE_INCHES)
    axes.plot(seconds, [sample.queued for sample in samples], label="visible in queue")
    axes.plot(seconds, [sample.in_flight for sample in samples], label="in flight (not visible)")
    axes.plot(seconds, [sample.dead_letters for sample in samples], label="in dead-letter queue")
    axes.set_xlabel("seconds since the drill started (time-compressed)")
    axes.set_ylabel("messages")
    axes.set_title(title)
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=CHART_DPI)
    plt.close(figure)
    return True


__all__ = ["Sample", "write_chart"]
