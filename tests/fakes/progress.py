"""A listener of the Progress port that records each phase: what a bar would show."""

from __future__ import annotations

from dataclasses import dataclass

from domain.services.progress import Progress


@dataclass
class Phase:
    unit: str
    total: int | None
    done: int = 0


class RecordingProgress(Progress):
    def __init__(self) -> None:
        self.phases: list[Phase] = []

    def start(self, total: int | None, unit: str) -> None:
        self.phases.append(Phase(unit, total))

    def advance(self, count: int = 1) -> None:
        self.phases[-1].done += count

    def shown(self) -> list[tuple[str, int | None, int]]:
        return [(p.unit, p.total, p.done) for p in self.phases]
