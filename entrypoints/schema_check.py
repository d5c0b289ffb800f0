"""Before a command uses the database: is it there, reachable and current?

Asked first by every command but ``serve`` and ``db upgrade`` (which create the schema),
so that a command run from the wrong directory, or before the first start, says which
database it looked for and how to create it, instead of making an empty data directory
and failing on a missing table.
"""

from __future__ import annotations

from pathlib import Path

from entrypoints.config import Settings

CREATE = "run 'orchard db upgrade' (or 'orchard serve', which migrates first) to create it"


def database_problem(settings: Settings) -> str | None:
    """One sentence saying why the database cannot be used as it is, or None."""
    from adapters.migrations import status

    found = status(settings.resolved_database_url)
    where = _where(settings, found.location)
    if not found.exists:
        return f"No Orchard database at {where}; {CREATE}."
    if found.error:
        return f"Cannot reach the database at {where}: {found.error}."
    if found.current is None:
        return f"The database at {where} has no Orchard schema yet; {CREATE}."
    if found.current != found.head:
        return (
            f"The database at {where} is at schema revision {found.current}, and this "
            f"Orchard expects {found.head}: run 'orchard db upgrade'."
        )
    return None


def upgrade_report(before: str | None, after: str | None) -> str:
    """What ``orchard db upgrade`` did, in one sentence."""
    if before == after:
        return f"Nothing to do: the database is already at the newest revision ({after})."
    if before is None:
        return f"Created the database schema (revision {after})."
    return f"Upgraded the database schema from revision {before} to {after}."


def _where(settings: Settings, location: str) -> str:
    if settings.database_url:
        return f"{location} (ORCHARD_DATABASE_URL)"
    data_dir = Path(settings.data_dir)
    return f"{location} (ORCHARD_DATA_DIR={settings.data_dir}, that is {data_dir.resolve()})"
