"""Peak memory of a server's whole process tree (gunicorn master + workers).

A background thread samples ``/proc/<pid>/status`` of the tree every 50 ms. It keeps the
largest sum of VmRSS seen, the sum of each process's VmHWM (its own peak; an upper bound
on the tree's peak) and the largest sum of Pss (shared pages counted once, so forked
workers that share their code are not counted four times).
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    return 0


def _pss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    return 0


@dataclass
class Peak:
    rss_mib: float = 0.0
    hwm_mib: float = 0.0
    pss_mib: float = 0.0
    baseline_rss_mib: float = 0.0
    processes: int = 0


class TreeSampler:
    """``with TreeSampler(pid) as sampler: ...``; then ``sampler.peak``."""

    def __init__(self, root_pid: int, interval: float = 0.05) -> None:
        self._root = root_pid
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self.peak = Peak()

    def _sample(self) -> None:
        pids = process_tree(self._root)
        rss = sum(_status_kib(p, "VmRSS") for p in pids) / 1024
        pss = sum(_pss_kib(p) for p in pids) / 1024
        hwm = sum(_status_kib(p, "VmHWM") for p in pids) / 1024
        peak = self.peak
        peak.rss_mib, peak.pss_mib = max(peak.rss_mib, rss), max(peak.pss_mib, pss)
        peak.hwm_mib, peak.processes = max(peak.hwm_mib, hwm), len(pids)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> TreeSampler:
        self._sample()
        self.peak.baseline_rss_mib = self.peak.rss_mib
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
