"""CPU time of processes, read from ``/proc``: a server's whole tree (gunicorn master and
workers), moto, or this process. Several benchmarks count it around what they measure."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

from benchmarks.rss import process_tree

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Cpu:
    """Seconds of CPU, split as the kernel counts them."""

    user: float
    system: float

    @property
    def total(self) -> float:
        return self.user + self.system

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(self.user - other.user, self.system - other.system)


def tree_cpu(root: int) -> Cpu:
    """CPU of ``root`` and its live descendants (in 1/``SC_CLK_TCK`` s ticks)."""
    user = system = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            user, system = user + int(fields[11]), system + int(fields[12])  # utime, stime
    return Cpu(user / _TICK, system / _TICK)


def own_cpu() -> Cpu:
    """CPU of this process, every thread."""
    times = os.times()
    return Cpu(times.user, times.system)
