"""The targets issues #2, #3 and #6 set, checked against the recorded medians."""

from __future__ import annotations

from benchmarks.machine import FOUR_DIGEST_SINK, SINK
from benchmarks.record import Recorder

EMBEDDED = "orchard sqlite+fs"
S3 = "orchard postgres+s3"
# The floor for pip: the same index as Orchard's, PEP 658/714 metadata files included, so
# pip fetches the same URLs from both. The tree without them is reported beside it.
NGINX = "nginx (static)"
NGINX_PLAIN = "nginx (static, no PEP 658)"


def _value(rec: Recorder, scenario: str, server: str, metric: str) -> float | None:
    for row in rec.data["rows"]:
        if (row["scenario"], row["server"], row["metric"])[1:] == (server, metric) and row[
            "scenario"
        ].startswith(scenario):
            return row["median"]
    return None


def _check(rec, issue, text, measured, ok) -> None:
    rec.target(issue, text, measured, ok)


def evaluate(rec: Recorder) -> None:
    limits = rec.data["limits"]
    up = _value(rec, "upload", EMBEDDED, "MB/s")
    down = _value(rec, "download", EMBEDDED, "MB/s")
    nginx_down = _value(rec, "download", NGINX, "MB/s")
    sink = limits.get(SINK)
    sink_four = limits.get(FOUR_DIGEST_SINK)
    both = limits.get("sha256sum then cp+sync, together")
    if up is not None:
        _check(rec, "#6", "1 GiB upload (curl) >= 150 MB/s", f"{up:.0f} MB/s", up >= 150)
        if sink:  # retired by #19: every upload computes four digests, not one
            _check(
                rec,
                "#6",
                "upload vs the one-thread sink computing SHA-256 only (retired, report)",
                f"{up / sink:.0%} ({up:.0f} of {sink:.0f} MB/s)",
                None,
            )
        if sink_four:
            _check(
                rec,
                "#19",
                "upload >= 90% of the one-thread sink computing Orchard's four digests",
                f"{up / sink_four:.0%} ({up:.0f} of {sink_four:.0f} MB/s)",
                up >= 0.9 * sink_four,
            )
        if both:
            _check(
                rec,
                "#2",
                "upload >= half of sha256sum+cp together",
                f"{up:.0f} vs {both / 2:.0f} MB/s",
                up >= both / 2,
            )
    if down is not None and nginx_down:
        _check(
            rec,
            "#6",
            "download >= 70% of nginx",
            f"{down / nginx_down:.0%}",
            down >= 0.7 * nginx_down,
        )
    for direction in ("upload", "download"):
        # Forked workers share their code pages; summing each process's RSS counts those
        # pages once per worker. PSS splits shared pages between their users, so its sum is
        # the tree's real footprint: the target is judged on it, and RSS is shown beside.
        pss = _value(rec, direction, EMBEDDED, "peak PSS MiB")
        rss = _value(rec, direction, EMBEDDED, "peak RSS MiB")
        if pss is not None:
            _check(
                rec,
                "#6",
                f"peak server memory during 1 GiB {direction} < 150 MiB",
                f"{pss:.0f} MiB PSS summed ({rss or 0:.0f} MiB summed RSS) over master + workers",
                pss < 150,
            )
    for direction in ("upload", "download"):
        orchard_s3 = _value(rec, direction, S3, "MB/s")
        direct = _value(rec, direction, "boto3 direct (moto)", "MB/s")
        if orchard_s3 and direct:
            _check(
                rec,
                "#3",
                f"S3 {direction}: Orchard vs direct boto3 (report)",
                f"{orchard_s3 / direct:.2f}x ({orchard_s3:.0f} vs {direct:.0f} MB/s)",
                None,
            )
    _pypi_targets(rec)
    _production_targets(rec)
    _pip_targets(rec)


def _ratio(rec, issue, text, ours, theirs, at_least, unit="") -> None:
    if ours is not None and theirs:
        measured = f"{ours / theirs:.2f}x ({ours:.2f} vs {theirs:.2f}{unit})"
        _check(rec, issue, text, measured, ours >= at_least * theirs)


def _production_targets(rec: Recorder) -> None:
    """Issue #19's rows for PostgreSQL + S3 and for small files."""
    direct = "boto3 direct (moto)"
    for direction, least in (("upload", 0.8), ("download", 0.9)):
        ours, theirs = _value(rec, direction, S3, "MB/s"), _value(rec, direction, direct, "MB/s")
        text = f"1 GiB {direction}, PostgreSQL + S3, >= {least}x boto3 to the same endpoint"
        _ratio(rec, "#19", text, ours, theirs, least, " MB/s")
    first = _value(rec, "first download", S3, "MB/s")
    theirs = _value(rec, "download", direct, "MB/s")
    if first and theirs:
        text = "1 GiB first download, PostgreSQL + S3 (copied into the local cache), vs boto3"
        measured = f"{first / theirs:.2f}x ({first:.0f} vs {theirs:.0f} MB/s)"
        _check(rec, "#19", text + " (report)", measured, None)
    pss, rss = _value(rec, "upload", S3, "peak PSS MiB"), _value(rec, "upload", S3, "peak RSS MiB")
    if pss is not None:
        measured = f"{pss:.0f} MiB PSS summed ({rss or 0:.0f} MiB RSS) over master + workers"
        _check(rec, "#19", "memory during that upload < 200 MiB PSS", measured, pss < 200)
    small = "upload 4 KiB files, 8 clients"
    rate, p99 = _value(rec, small, EMBEDDED, "uploads/s"), _value(rec, small, EMBEDDED, "p99 ms")
    if rate is not None and p99 is not None:
        measured = f"{rate:.0f}/s, p99 {p99:.0f} ms"
        ok = rate >= 250 and p99 < 100
        _check(
            rec, "#19", "4 KiB uploads, 8 clients, embedded: >= 250/s, p99 < 100 ms", measured, ok
        )
    rate = _value(rec, small, S3, "uploads/s")
    if rate is not None:
        text = "4 KiB uploads, 8 clients, PostgreSQL + S3: >= 100/s"
        _check(rec, "#19", text, f"{rate:.0f}/s", rate >= 100)


def _pip_targets(rec: Recorder) -> None:
    """Issue #19's pip rows: devpi is the peer to beat (times: lower is better)."""
    for scenario, text in (
        ("pip download 50", "pip download of 50 packages, embedded, <= devpi"),
        ("pip install", "pip install (10 dependencies), fresh venv, <= devpi"),
    ):
        ours, devpi = (
            _value(rec, scenario, EMBEDDED, "seconds"),
            _value(rec, scenario, "devpi", "seconds"),
        )
        if ours and devpi:
            measured = f"{ours:.2f} vs {devpi:.2f} s"
            _check(rec, "#19", text, measured, ours <= devpi)
    wheel = next(
        (
            r["scenario"]
            for r in rec.data["rows"]
            if r["scenario"].endswith("MB wheel") and r["scenario"].startswith("pip download")
        ),
        None,
    )
    if wheel is not None:
        ours, devpi = _value(rec, wheel, EMBEDDED, "MB/s"), _value(rec, wheel, "devpi", "MB/s")
        nginx = _value(rec, wheel, NGINX, "MB/s")
        if ours and devpi and nginx:
            measured = f"{ours:.0f} MB/s; devpi {devpi:.0f}, nginx {nginx:.0f}"
            _check(
                rec,
                "#19",
                f"{wheel}: >= devpi and >= 0.8x nginx",
                measured,
                ours >= devpi and ours >= 0.8 * nginx,
            )
    ours, nginx = (
        _value(rec, "pip download 50", S3, "seconds"),
        _value(rec, "pip download 50", NGINX, "seconds"),
    )
    if ours and nginx:
        text = "pip download of 50 packages, PostgreSQL + S3, <= 1.3x nginx"
        _check(
            rec,
            "#19",
            text,
            f"{ours / nginx:.2f}x ({ours:.2f} vs {nginx:.2f} s)",
            ours <= 1.3 * nginx,
        )


def _pypi_targets(rec: Recorder) -> None:
    page = "/simple/<project>/ 16 clients"
    ours = _value(rec, page, EMBEDDED, "req/s")
    devpi = _value(rec, page, "devpi", "req/s")
    p99 = _value(rec, page, EMBEDDED, "p99 ms")
    if ours is not None and devpi:
        _check(
            rec,
            "#6",
            "/simple/<project>/ 16 clients >= 3x devpi req/s",
            f"{ours / devpi:.1f}x ({ours:.0f} vs {devpi:.0f})",
            ours >= 3 * devpi,
        )
    nginx_p99 = _value(rec, page, NGINX, "p99 ms")
    one_client = _value(rec, "/simple/<project>/ 1 client", EMBEDDED, "p99 ms")
    if p99 is not None and nginx_p99:  # #19: nginx's own p99 swings 2-40 ms on this host
        _check(
            rec,
            "#19",
            "/simple/<project>/ 16 clients p99 <= 3x nginx's in the same rounds",
            f"{p99 / nginx_p99:.1f}x ({p99:.1f} vs {nginx_p99:.1f} ms); 1 client: "
            + (f"{one_client:.1f} ms" if one_client is not None else "-"),
            p99 <= 3 * nginx_p99,
        )
    _versus_nginx(
        rec,
        "pip download 50",
        "pip download of 50 packages vs static nginx with PEP 658 metadata (report; #19)",
        limit=None,
    )
    _versus_nginx(
        rec,
        "pip install",
        "pip install app (10 deps) vs static nginx with PEP 658 metadata (report)",
        limit=None,
    )


def _versus_nginx(rec: Recorder, scenario: str, target: str, limit: float | None) -> None:
    """Orchard's time against the static tree with metadata, judged against ``limit``
    (None: reported only), with the plain tree's ratio beside it."""
    ours = _value(rec, scenario, EMBEDDED, "seconds")
    nginx = _value(rec, scenario, NGINX, "seconds")
    if ours and nginx:
        _check(
            rec,
            "#6",
            target,
            f"{ours / nginx:.2f}x ({ours:.2f} vs {nginx:.2f} s)" + _plain(rec, scenario, ours),
            None if limit is None else ours <= limit * nginx,
        )


def _plain(rec: Recorder, scenario: str, ours: float) -> str:
    """Orchard's ratio to the static tree without metadata files (pip fetches fewer URLs
    from it), appended to the measured text."""
    plain = _value(rec, scenario, NGINX_PLAIN, "seconds")
    if not plain:
        return ""
    return f"; vs {NGINX_PLAIN}: {ours / plain:.2f}x ({plain:.2f} s)"
