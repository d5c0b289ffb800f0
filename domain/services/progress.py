"""How long walks (fsck, gc, export, import) report progress without knowing who listens.

A use case calls ``progress.start(total, unit)`` when it knows how many items a phase
has, then ``progress.advance(n)`` after ``n`` more. The CLI passes a progress bar on a
terminal and ``NO_PROGRESS`` otherwise, so logs stay quiet; the domain never imports a
progress library.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


class Progress:
    """The listener port. This base class listens to nothing; subclasses show or record."""

    def start(self, total: int | None, unit: str) -> None:
        """A phase begins: ``total`` items (None when unknown) counted in ``unit``
        ("blobs", "artifacts"). A new phase replaces the previous one."""

    def advance(self, count: int = 1) -> None:
        """``count`` more items of the current phase are done."""


NO_PROGRESS = Progress()  # the default listener: nobody is watching


def listed(items: Iterable[T], progress: Progress, unit: str) -> list[T]:
    """Every item of a walk whose length is unknown until its end (a blob store's
    listing), counted as it comes, so that the next phase can show a total."""
    progress.start(None, unit)
    found = []
    for item in items:
        found.append(item)
        progress.advance(1)
    return found
