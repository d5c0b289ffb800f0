"""The root ``orchard`` group: a setting that cannot be used is one sentence, exit 1.

Every command reads the settings; a ``ConfigError`` from any of them (or from the checks
``orchard serve`` makes before starting) becomes click's ``Error: ...`` line, not a
traceback.
"""

from __future__ import annotations

from typing import Any

import click

from entrypoints.config import ConfigError


class OrchardGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            raise click.ClickException(str(error)) from None
