"""Collects runs into rows (medians), targets and skip reasons, in the report's shape."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable

from benchmarks.stats import median, ratio


class Recorder:
    def __init__(self, machine: dict) -> None:
        self.data: dict = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine,
            "versions": {},
            "limits": {},
            "rows": [],
            "raw": {},
            "targets": [],
            "skipped": [],
        }
        self._loads: list[float] = []

    def note_load(self) -> None:
        self._loads.append(os.getloadavg()[0])
        self.data["load_min"], self.data["load_max"] = min(self._loads), max(self._loads)

    def skip(self, reason: str) -> None:
        print(f"SKIP: {reason}", flush=True)
        self.data["skipped"].append(reason)

    def add(self, scenario: str, server: str, metric: str, runs: list[dict], key: str) -> float:
        """Record the median of ``run[key]`` over the runs; return it."""
        values = [run[key] for run in runs if run.get(key) is not None]
        value = median(values)
        self.data["raw"].setdefault(scenario, {})[server] = runs
        self.data["rows"].append(
            {
                "scenario": scenario,
                "server": server,
                "metric": metric,
                "median": value,
                "runs": len(values),
            }
        )
        print(f"  {scenario:<34} {server:<26} {metric:<14} {value!s:>10}", flush=True)
        return value

    def compare(
        self, row: dict, numerator: float | None, denominator: float | None, label: str
    ) -> None:
        """Annotate a row with a ratio to a reference (``1.80x nginx``)."""
        value = ratio(numerator, denominator)
        row["vs"] = f"{value:.2f}x {label}" if value is not None else None

    def row(self, scenario: str, server: str, metric: str) -> dict:
        for row in reversed(self.data["rows"]):
            if (row["scenario"], row["server"], row["metric"]) == (scenario, server, metric):
                return row
        raise KeyError((scenario, server, metric))

    def target(self, issue: str, text: str, measured: str, met: bool | None) -> None:
        self.data["targets"].append(
            {"issue": issue, "target": text, "measured": measured, "met": met}
        )


def alternate(contenders: dict[str, Callable[[int], dict]], rounds: int) -> dict[str, list]:
    """Run each contender once per round, rotating the order (A B, B A, ...).

    Rotation as well as alternation: whoever goes first in a round meets a cold page cache
    or a freshly idle neighbour, and that advantage should not always go to the same one.
    """
    names = list(contenders)
    runs: dict[str, list] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            try:
                runs[name].append(contenders[name](index))
            except Exception as error:  # one failed run must not end the bench
                print(f"  ! {name} round {index}: {error}", flush=True)
                runs[name].append({"error": str(error)[:300]})
    return runs
