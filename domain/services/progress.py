"""How long walks (fsck, gc, export, import) report progress without knowing who listens.

A use case calls ``progress(n)`` after ``n`` more items; the CLI passes a progress bar's
``update`` on a terminal and nothing otherwise, so logs stay quiet.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int], None]


def no_progress(_: int) -> None:
    """The default listener: nobody is watching."""
