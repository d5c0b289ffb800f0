"""The Python package index of every project (SPEC §3): simple API, uploads, files, and
the REST endpoints that yank and delete distributions."""

from __future__ import annotations

from entrypoints.http.pypi import api, simple, upload

blueprints = (simple.bp, upload.bp, api.bp)
