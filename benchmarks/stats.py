"""Medians, percentiles and ratios: the only statistics the report uses.

Medians, not means: on a shared machine one run in five is slowed by a neighbour, and a
median of alternated runs shrugs that off where a mean would not.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1) of raw samples."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def mb_per_s(size_bytes: int, seconds: float) -> float:
    """Decimal megabytes per second (curl and dd report the same unit)."""
    return size_bytes / seconds / 1e6 if seconds > 0 else 0.0
