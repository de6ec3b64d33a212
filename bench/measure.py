"""Run a command as a child process and measure its wall time, CPU time and peak memory.

Memory is reported two ways. ``tree_peak_rss_bytes`` is the largest sum of the
resident set sizes of the child and all its descendants (python and the node
process that jsii starts), sampled with psutil every ``POLL_INTERVAL_S``. A peak
shorter than that interval can be missed, and pages shared between the
processes are counted once per process. ``max_process_rss_bytes`` is the kernel's
exact ``ru_maxrss`` from ``wait4``: the peak of the single largest process among
the child and the descendants it waited for.
"""

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_INTERVAL_S = 0.01
KIB = 1024


@dataclass(frozen=True)
class Sample:
    """One measured run of a command."""

    wall_s: float
    cpu_s: float
    tree_peak_rss_bytes: int
    max_process_rss_bytes: int


class CommandFailedError(RuntimeError):
    """A measured command exited with a non-zero status."""


class TreeMemorySampler(threading.Thread):
    """Poll the resident memory of a process and its descendants until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_bytes = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak_bytes = max(self.peak_bytes, self._tree_rss_bytes())
            self.stopped.wait(POLL_INTERVAL_S)

    def _tree_rss_bytes(self) -> int:
        try:
            processes = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            # The root has exited; its last samples are already counted.
            return 0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue
        return total


def run_measured(command: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> Sample:
    """Run ``command`` to completion and return its measurements; raise ``CommandFailedError`` on a non-zero exit."""
    with tempfile.TemporaryFile(mode="w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        sampler = TreeMemorySampler(process.pid)
        sampler.start()
        # wait4 rather than Popen.wait, because only wait4 returns the child's resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stopped.set()
        sampler.join()
        if process.returncode != 0:
            stderr.seek(0)
            raise CommandFailedError(f"{' '.join(command)} exited with {process.returncode}:\n{stderr.read()[-4000:]}")
    return Sample(
        wall_s=wall_s,
        cpu_s=usage.ru_utime + usage.ru_stime,
        tree_peak_rss_bytes=sampler.peak_bytes,
        # Linux reports ru_maxrss in KiB.
        max_process_rss_bytes=usage.ru_maxrss * KIB,
    )
