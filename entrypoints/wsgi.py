"""WSGI entry for gunicorn: ``gunicorn 'entrypoints.wsgi:create_app()'``.

Kept as a factory so nothing (no engine, no client, no file) is created at import time.
"""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
