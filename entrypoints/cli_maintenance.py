"""``orchard gc``, ``fsck``, ``export`` and ``import``: the operator's long walks.

Each parses its flags, runs one use case with a progress bar when stderr is a terminal,
and prints a summary: a readable paragraph, or ``--json`` for scripts and monitoring.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import click

from domain.services import backup, fsck, gc, restore
from entrypoints.cli_progress import progress_bar
from entrypoints.cli_support import domain_errors, emit, human_bytes, services
from entrypoints.http import metrics

_JSON = click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
_GRACE = click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=None,
    help="seconds a blob must be untouched before it counts (default ORCHARD_GC_GRACE)",
)


@click.command("gc", short_help="Delete unreferenced blobs after the grace period.")
@click.option("--apply", is_flag=True, help="delete (default: only report)")
@_GRACE
@_JSON
def collect(apply: bool, grace: float | None, as_json: bool) -> None:
    """Delete blobs no upload references, after the grace period (dry run by default)."""
    svc = services()
    seconds = svc.settings.gc_grace if grace is None else grace
    with domain_errors(), progress_bar("Collecting garbage") as progress:
        report = gc.collect_garbage(
            svc.uow,
            svc.blobs,
            svc.clock,
            grace=timedelta(seconds=seconds),
            apply=apply,
            progress=progress,
        )
    metrics.record_gc(report, svc.settings.data_dir)
    emit(as_json, _gc_payload(report, seconds), _gc_text(report))


def _gc_payload(report: gc.GcReport, grace: float) -> dict:
    return {
        "dry_run": report.dry_run,
        "grace_seconds": grace,
        "artifacts": len(report.artifacts),
        "artifact_ids": report.artifacts,
        "orphans": len(report.orphans),
        "orphan_ids": report.orphans,
        "bytes": report.total_bytes,
        "temporary": report.temporary,
        "temporary_bytes": report.temporary_bytes,
        "temporary_removed": report.temporary_removed,
    }


def _gc_text(report: gc.GcReport) -> str:
    verb = "Would free" if report.dry_run else "Freed"
    text = (
        f"{verb} {human_bytes(report.total_bytes)} ({report.total_bytes} bytes): "
        f"{len(report.artifacts)} unreferenced artifact(s), {len(report.orphans)} orphan blob(s)"
    )
    temporary = (
        f"{report.temporary} stale temporary upload(s) "
        f"({human_bytes(report.temporary_bytes)}, {report.temporary_bytes} bytes)"
    )
    if report.dry_run:
        return text + f", {temporary}. Run again with --apply to delete."
    return text + f"; removed {report.temporary_removed} of {temporary}."


@click.command("fsck")
@click.option("--repair", is_flag=True, help="fix reference counts, quarantine corrupt blobs")
@_GRACE
@_JSON
def check(repair: bool, grace: float | None, as_json: bool) -> None:
    """Re-hash every blob and compare the store with the database.

    Exits with status 1 when problems were found and not all of them repaired.
    """
    svc = services()
    seconds = svc.settings.gc_grace if grace is None else grace
    with domain_errors(), progress_bar("Checking blobs") as progress:
        report = fsck.check_store(
            svc.uow,
            svc.blobs,
            svc.clock,
            grace=timedelta(seconds=seconds),
            repair=repair,
            progress=progress,
        )
    emit(as_json, _fsck_payload(report), _fsck_text(report))
    if report.unrepaired:
        sys.exit(1)


def _fsck_payload(report: fsck.FsckReport) -> dict:
    return {
        "blobs_checked": report.blobs_checked,
        "bytes_checked": report.bytes_checked,
        "missing": report.missing,
        "corrupt": report.corrupt,
        "orphans": report.orphans,
        "drift": [vars(d) for d in report.drift],
        "quarantined": report.quarantined,
        "recounted": report.recounted,
        "temporary": report.temporary,
        "temporary_bytes": report.temporary_bytes,
        "problems": report.problems,
        "unrepaired": report.unrepaired,
    }


def _fsck_text(report: fsck.FsckReport) -> str:
    lines = [f"Checked {report.blobs_checked} blobs ({human_bytes(report.bytes_checked)})."]
    lines += [f"missing blob (row without bytes): {sha}" for sha in report.missing]
    lines += [f"corrupt blob (bytes do not match): {sha}" for sha in report.corrupt]
    lines += [f"orphan blob (no row; 'orchard gc' frees it): {sha}" for sha in report.orphans]
    lines += [
        f"reference count drift: {d.artifact_id} records {d.recorded}, uploads hold {d.actual}"
        for d in report.drift
    ]
    if report.temporary:
        lines.append(
            f"stale temporary uploads (a worker stopped mid-upload; 'orchard gc' removes "
            f"them): {report.temporary}, {human_bytes(report.temporary_bytes)}"
        )
    lines += [f"quarantined: {sha}" for sha in report.quarantined]
    lines += [f"recounted: {sha}" for sha in report.recounted]
    status = "no problems" if not report.problems else f"{report.problems} problem(s)"
    lines.append(f"fsck: {status}, {report.unrepaired} left unrepaired.")
    return "\n".join(lines)


@click.command("export", short_help="Write a project to a tar archive.")
@click.argument("project")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the archive to write (replaced only once complete)",
)
@_JSON
def export(project: str, output: Path, as_json: bool) -> None:
    """Write a project (packages, uploads, tags, versions, files) to a tar archive."""
    svc = services()
    partial = output.with_name(output.name + ".partial")
    try:
        with domain_errors(), partial.open("wb") as sink, progress_bar("Exporting") as progress:
            report = backup.export_project(
                svc.uow(snapshot=True),
                svc.blobs,
                svc.clock,
                project=project,
                output=sink,
                progress=progress,
            )
        os.replace(partial, output)  # a failed export never leaves a file that looks whole
    except OSError as error:
        raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from None
    finally:
        partial.unlink(missing_ok=True)
    emit(
        as_json,
        vars(report) | {"output": str(output)},
        f"Exported project '{report.project}': {report.packages} package(s), "
        f"{report.uploads} upload(s), {report.artifacts} blob(s) "
        f"({human_bytes(report.bytes)}) to {output}.",
    )


@click.command("import")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", default=None, help="import under this name instead")
@_JSON
def import_(archive: Path, project: str | None, as_json: bool) -> None:
    """Restore a project from an archive made by 'orchard export'."""
    svc = services()
    with domain_errors(), archive.open("rb") as source, progress_bar("Importing") as progress:
        report = restore.import_archive(
            svc.uow, svc.blobs, svc.clock, source=source, project=project, progress=progress
        )
    emit(
        as_json,
        vars(report),
        f"Imported project '{report.project}': {len(report.packages)} package(s), "
        f"{report.uploads} upload(s), {report.artifacts} blob(s) ({human_bytes(report.bytes)}).",
    )


COMMANDS = (collect, check, export, import_)
