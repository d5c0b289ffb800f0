"""The SQL repositories, one class per repository port in ``domain/ports.py``.

They live in small modules under ``adapters/sql/``; this module is the one place others
import them from. Each repository runs statements on the connection of the unit of work
that created it (``adapters/unit_of_work.py``) and never commits.
"""

from __future__ import annotations

from adapters.sql.accounts import (
    SqlApiKeyRepository,
    SqlMembershipRepository,
    SqlSessionRepository,
    SqlUserRepository,
)
from adapters.sql.artifacts import SqlArtifactRepository, SqlUploadRepository
from adapters.sql.distributions import SqlDistributionRepository
from adapters.sql.login_failures import SqlLoginFailureRepository
from adapters.sql.projects import SqlPackageRepository, SqlProjectRepository
from adapters.sql.references import SqlTagRepository, SqlVersionRepository

__all__ = [
    "SqlApiKeyRepository",
    "SqlArtifactRepository",
    "SqlDistributionRepository",
    "SqlLoginFailureRepository",
    "SqlMembershipRepository",
    "SqlPackageRepository",
    "SqlProjectRepository",
    "SqlSessionRepository",
    "SqlTagRepository",
    "SqlUploadRepository",
    "SqlUserRepository",
    "SqlVersionRepository",
]
