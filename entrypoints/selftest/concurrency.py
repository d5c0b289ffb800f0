"""The concurrent check (seed 002, item 7, for the scale-out shape): three packages
uploaded at once, their files downloaded at once, every byte compared with what was
built, and all three installed and imported. Parallel requests reach different pods behind
the Service, so a shape whose pods do not share one database and one store fails here."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from entrypoints.selftest import distribution
from entrypoints.selftest.client import SelftestFailure
from entrypoints.selftest.distribution import Distribution
from entrypoints.selftest.install import imported_version, pip_install
from entrypoints.selftest.plan import Plan
from entrypoints.selftest.steps import listed, served_intact, upload

PARALLEL = 3
T = TypeVar("T")


def check_concurrent(plan: Plan) -> str:
    dists = [
        distribution.build(f"{plan.package}-parallel-{n}", plan.version)
        for n in range(1, PARALLEL + 1)
    ]
    _all_at_once(lambda dist: upload(plan.server, dist), dists)
    for dist in dists:
        listed(plan.server, dist)
    _all_at_once(lambda dist: served_intact(plan.server, dist), dists)
    target = plan.fresh_dir("parallel") / "site"
    pip_install(plan.server, target, *(f"{d.name}=={d.version}" for d in dists))
    for dist in dists:
        if (got := imported_version(target, dist.module)) != dist.version:
            raise SelftestFailure(f"import {dist.module} gives {got}, not {dist.version}.")
    names = ", ".join(d.name for d in dists)
    return f"{names} uploaded at once, downloaded at once intact, installed and imported."


def _all_at_once(step: Callable[[Distribution], T], dists: list[Distribution]) -> list[T]:
    """Run ``step`` for every release in parallel; the first failure is the check's."""
    with ThreadPoolExecutor(max_workers=len(dists)) as pool:
        futures = [pool.submit(step, dist) for dist in dists]
    return [future.result() for future in futures]  # re-raises a SelftestFailure as is
