"""The system clock: the only place production code asks the OS what time it is."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.ports import Clock


class SystemClock(Clock):
    def now(self) -> datetime:
        return datetime.now(UTC)
