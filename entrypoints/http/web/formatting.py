"""Template filters: sizes, times, and the URL of a page of a listing."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request, url_for

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def filesize(size: int) -> str:
    """``1.5 MiB``; exact bytes below 1 KiB."""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # not reached


def seconds(value: float) -> str:
    """A duration setting as people read it: ``600 s (10 min)``."""
    shown = f"{value:g} s"
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if value >= size:
            return f"{shown} ({value / size:g} {unit})"
    return shown


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def page_url(number: int, param: str = "page") -> str:
    """This page's URL with ``param`` replaced (search terms and other pages kept)."""
    args = {**(request.view_args or {}), **request.args.to_dict(), param: number}
    return url_for(request.endpoint or "web.home", **args)


def install_filters(bp: Blueprint) -> None:
    bp.add_app_template_filter(filesize, "filesize")
    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(seconds, "seconds")
    bp.add_app_template_filter(iso, "iso")
    bp.add_app_template_global(page_url, "page_url")
