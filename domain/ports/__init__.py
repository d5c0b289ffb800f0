"""The ports: what the use cases need from the outside world, and nothing more.

Split by concern: ``blobs`` (artifact bytes), ``metadata`` (repositories and the unit of
work; ``accounts`` holds the repositories of users, keys, sessions and members),
``system`` (clock, archive metadata reader, password hasher). Adapters implement
these ABCs; tests implement them with in-memory fakes (``tests/fakes/``). Every adapter
translates its vendor's errors into the domain errors named in the docstrings
(``BlobNotFound``, ``BackendUnavailable``, ...). Import from ``domain.ports``: this
package re-exports every port.
"""

from __future__ import annotations

from domain.model import PackageMetadata
from domain.ports.accounts import (
    ApiKeyRepository,
    LoginFailureRepository,
    MembershipRepository,
    SessionRepository,
    UserRepository,
)
from domain.ports.blobs import (
    BlobReader,
    BlobStore,
    BlobWriter,
    StagedBlob,
    TemporaryUsage,
)
from domain.ports.metadata import (
    ArtifactRepository,
    DistributionRepository,
    PackageRepository,
    ProjectRepository,
    TagRepository,
    UnitOfWork,
    UploadRepository,
    VersionRepository,
)
from domain.ports.system import Clock, MetadataReader, PasswordHasher

__all__ = [
    "ApiKeyRepository",
    "ArtifactRepository",
    "BlobReader",
    "BlobStore",
    "BlobWriter",
    "Clock",
    "DistributionRepository",
    "LoginFailureRepository",
    "MembershipRepository",
    "MetadataReader",
    "PackageMetadata",
    "PackageRepository",
    "PasswordHasher",
    "ProjectRepository",
    "SessionRepository",
    "StagedBlob",
    "TagRepository",
    "TemporaryUsage",
    "UnitOfWork",
    "UploadRepository",
    "UserRepository",
    "VersionRepository",
]
