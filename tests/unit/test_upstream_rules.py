"""The upstream cache's pure rules: which names may come from the upstream, what the
cooldown hides, how the merge orders files, and how old a cached page may be."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from domain.upstream import (
    Freshness,
    UpstreamFile,
    UpstreamSettings,
    cooldown_refusal,
    freshness,
    merge_files,
    offered,
    upstream_applies,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local_exists", "merge_opted_in", "applies"),
    [
        (False, False, True),  # only upstream has it
        (False, True, True),
        (True, False, False),  # a local name hides the upstream entirely
        (True, True, True),  # unless an admin opted that name in
    ],
)
def test_upstream_applies_only_to_names_not_local_or_opted_in(
    local_exists, merge_opted_in, applies
):
    assert upstream_applies(local_exists=local_exists, merge_opted_in=merge_opted_in) is applies


def _file(age_seconds: float | None, name: str = "a-1.0.tar.gz") -> UpstreamFile:
    uploaded = None if age_seconds is None else NOW - timedelta(seconds=age_seconds)
    return UpstreamFile(filename=name, url="https://x/a", sha256="0" * 64, upload_time=uploaded)


@pytest.mark.parametrize(
    ("age", "cooldown", "is_offered"),
    [
        (10, 0, True),  # no cooldown: everything
        (None, 0, True),  # no cooldown: even files of unknown age
        (10, 3600, False),  # younger than the cooldown
        (3599, 3600, False),
        (3600, 3600, True),  # exactly as old: offered
        (86400, 3600, True),
        (None, 3600, False),  # unknown age while a cooldown is set
        (-60, 3600, False),  # an upload-time in the future is young
    ],
)
def test_cooldown_hides_young_files_and_files_of_unknown_age(age, cooldown, is_offered):
    assert offered(_file(age), NOW, cooldown) is is_offered
    refusal = cooldown_refusal(_file(age), NOW, cooldown)
    assert (refusal is None) is is_offered
    if refusal is not None:
        assert "cooldown" in refusal


@dataclass(frozen=True)
class _Named:
    filename: str
    origin: str


@pytest.mark.parametrize(
    ("local", "upstream", "expected"),
    [
        ([], ["a.whl", "b.whl"], [("a.whl", "up"), ("b.whl", "up")]),
        (["a.whl"], [], [("a.whl", "local")]),
        (["a.whl"], ["a.whl", "b.whl"], [("a.whl", "local"), ("b.whl", "up")]),
        (["b.whl", "a.whl"], ["c.whl"], [("b.whl", "local"), ("a.whl", "local"), ("c.whl", "up")]),
    ],
)
def test_merge_keeps_local_files_and_adds_upstream_files_of_other_names(local, upstream, expected):
    merged = merge_files(
        [_Named(name, "local") for name in local], [_Named(name, "up") for name in upstream]
    )
    assert [(f.filename, f.origin) for f in merged] == expected


SETTINGS = UpstreamSettings(
    url="https://u/simple/", ttl=600, stale_max_age=7 * 86400, negative_ttl=60
)


@pytest.mark.parametrize(
    ("age", "missing", "expected"),
    [
        (0, False, Freshness.FRESH),
        (599, False, Freshness.FRESH),
        (600, False, Freshness.EXPIRED),  # TTL over: revalidate
        (86400, False, Freshness.EXPIRED),  # still servable if the upstream fails
        (7 * 86400, False, Freshness.EXPIRED),
        (7 * 86400 + 1, False, Freshness.TOO_OLD),  # past the stale max age
        (59, True, Freshness.FRESH),  # a remembered "not found"
        (60, True, Freshness.EXPIRED),  # ask again after the negative-cache time
    ],
)
def test_freshness_of_cached_pages_and_remembered_misses(age, missing, expected):
    checked = NOW - timedelta(seconds=age)
    assert freshness(checked, NOW, SETTINGS, missing=missing) is expected


def test_settings_never_print_the_password():
    settings = UpstreamSettings(url="https://u/", username="bot", password="s3cret")
    assert "s3cret" not in repr(settings)
