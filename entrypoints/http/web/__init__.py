"""The web interface: server-rendered pages over the same use cases and access rules as
the API (``docs/ui.md``). Views are thin; every page reads what it shows in one unit of
work (``domain.services.browse``)."""

from __future__ import annotations

from entrypoints.http.web.blueprint import bp
from entrypoints.http.web.views import account, browse, manage, upstream

__all__ = ["account", "bp", "browse", "manage", "upstream"]
