"""The progress port on a terminal: a tqdm bar per phase of a long walk, with its total,
percentage, rate and time left; nothing at all when stderr is a log file or a pipe."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from tqdm import tqdm

from domain.services.progress import NO_PROGRESS, Progress

_KNOWN_TOTAL = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit} [{elapsed}<{remaining}]"
)
_UNKNOWN_TOTAL = "{desc}: {n_fmt} {unit} [{elapsed}]"


class TerminalProgress(Progress):
    """One bar at a time: a new phase closes the previous bar and opens its own."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._bar: tqdm | None = None

    def start(self, total: int | None, unit: str) -> None:
        self.close()
        self._bar = tqdm(
            total=total,
            desc=self._label,
            unit=unit,
            file=sys.stderr,
            dynamic_ncols=True,
            bar_format=_UNKNOWN_TOTAL if total is None else _KNOWN_TOTAL,
        )

    def advance(self, count: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@contextlib.contextmanager
def progress_bar(label: str) -> Iterator[Progress]:
    """A bar on a terminal; nothing when stderr is a log file or a pipe."""
    if not sys.stderr.isatty():
        yield NO_PROGRESS
        return
    progress = TerminalProgress(label)
    try:
        yield progress
    finally:
        progress.close()
