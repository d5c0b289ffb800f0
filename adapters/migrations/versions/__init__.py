"""Alembic revisions; a package so setuptools ships them as modules (Alembic skips
this file when it reads the history)."""
