"""One error hierarchy for the whole domain.

Each subclass names one failure a caller can act on. Entry points map these to HTTP
statuses in one table (``entrypoints/http/errors.py``); services never raise HTTP errors.
The message is a human sentence safe to show a client: no paths, no stack traces.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is the sentence shown to the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The request is well formed but a value in it is not acceptable (HTTP 400)."""


class InvalidName(InvalidInput):
    """A project, package, tag, version or file name breaks the naming rules."""


class EmptyContent(InvalidInput):
    """An upload carried zero bytes."""


class InvalidChecksum(InvalidInput):
    """A client-supplied checksum is not of the right form (not 64 hex characters...)."""


class ChecksumMismatch(DomainError):
    """The bytes received do not hash to what the client said (HTTP 422)."""


class Unprocessable(DomainError):
    """The request lacks something required to process it (HTTP 422)."""


class NotFound(DomainError):
    """The named thing does not exist, or the caller may not know it exists (HTTP 404)."""


class Conflict(DomainError):
    """The request contradicts stored state (HTTP 409)."""


class VersionConflict(Conflict):
    """An immutable version already points at other content."""


class FileExists(Conflict):
    """A distribution filename already exists in the package with other bytes."""


class AlreadyExists(Conflict):
    """A project, package, user or member with that name exists already."""


class TooLarge(DomainError):
    """The content exceeds the configured maximum size (HTTP 413)."""


class Unauthenticated(DomainError):
    """No credentials, or credentials that do not verify (HTTP 401)."""


class Forbidden(DomainError):
    """Valid credentials without the permission the operation needs (HTTP 403)."""


class TooManyAttempts(DomainError):
    """Too many failed logins: refused without checking, for ``retry_after`` seconds."""

    def __init__(self, detail: str, retry_after: int = 60) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class BackendUnavailable(DomainError):
    """The database or blob store did not answer in time (HTTP 503)."""


class BlobNotFound(NotFound):
    """The blob store holds no object under that key."""


class IncompleteContent(InvalidInput):
    """The client sent fewer bytes than it announced, or disconnected mid-upload."""


class UpstreamUnavailable(DomainError):
    """An upstream index refused, failed (5xx) or sent something unusable (HTTP 502)."""


class UpstreamTimeout(UpstreamUnavailable):
    """An upstream index did not answer within the timeouts (HTTP 504)."""
