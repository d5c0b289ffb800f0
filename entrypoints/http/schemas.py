"""Marshmallow schemas: they load requests, dump responses and feed the OpenAPI document."""

from __future__ import annotations

import unicodedata

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class LoginIn(_In):
    username = fields.String(required=True)
    password = fields.String(required=True)


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    is_admin = fields.Boolean()
    created_at = fields.DateTime()


class UserIn(_In):
    username = fields.String(required=True)
    password = fields.String(required=True)
    is_admin = fields.Boolean(load_default=False)


class ApiKeyIn(_In):
    name = fields.String(required=True, validate=validate.Length(min=1, max=128))


class ApiKeyOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)


class CreatedKeyOut(ApiKeyOut):
    key = fields.String(metadata={"description": "The secret: shown once, never again."})


class ProjectIn(_In):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    is_public = fields.Boolean(load_default=True)
    allow_overwrite = fields.Boolean(load_default=False)


class ProjectPatch(_In):
    description = fields.String()
    is_public = fields.Boolean()
    allow_overwrite = fields.Boolean()


class ProjectOut(Schema):
    id = fields.Integer()
    name = fields.String()
    description = fields.String()
    is_public = fields.Boolean()
    allow_overwrite = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    created_by = fields.String(allow_none=True)


class MemberIn(_In):
    role = fields.String(required=True, validate=validate.OneOf(["read", "write", "admin"]))


class MemberOut(Schema):
    username = fields.String()
    role = fields.Function(lambda m: m.role.value)
    created_at = fields.DateTime()


class PackageIn(_In):
    name = fields.String(required=True)
    description = fields.String(load_default="")
    format = fields.String(load_default="generic", validate=validate.OneOf(["generic", "pypi"]))


class PackageOut(Schema):
    id = fields.Integer()
    name = fields.String()
    project = fields.String(attribute="project_name")
    description = fields.String()
    format = fields.Function(lambda p: p.format.value)
    created_at = fields.DateTime()


# The offset (page - 1) * limit must fit the databases' 64-bit integers; a billion pages
# of a thousand items is far beyond any listing and far inside that.
MAX_PAGE = 1_000_000_000
MAX_SEARCH = 200


def _printable(value: str) -> None:
    """Names never hold control characters, so a search with one (NUL truncated the
    pattern on SQLite and matched everything) is a client mistake, refused with a reason."""
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs")), None)
    if bad is not None:
        raise ValidationError(f"must not contain the control character {bad!r}.")


class PageQuery(_In):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=1000))
    search = fields.String(
        load_default=None, validate=[validate.Length(max=MAX_SEARCH), _printable]
    )
    format = fields.String(load_default=None)


class PaginationOut(Schema):
    page = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()
    total_pages = fields.Integer(attribute="pages")


class UploadForm(_In):
    tag = fields.String(load_default=None)
    version = fields.String(load_default=None)


class UploadOut(Schema):
    artifact_id = fields.String()
    size = fields.Integer()
    original_name = fields.String()
    content_type = fields.String()
    created_at = fields.DateTime()
    project = fields.String()
    package = fields.String()
    tag = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    version_source = fields.String(allow_none=True)
    deduplicated = fields.Boolean()
    ref_count = fields.Integer()


class ArtifactOut(Schema):
    id = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    ref_count = fields.Integer()
    checksums = fields.Dict(keys=fields.String(), values=fields.String())
    created_at = fields.DateTime()


class TagIn(_In):
    artifact_id = fields.String(required=True)


class TagOut(Schema):
    name = fields.String()
    artifact_id = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class TagChangeOut(Schema):
    tag_name = fields.String()
    old_artifact_id = fields.String(allow_none=True)
    new_artifact_id = fields.String()
    changed_at = fields.DateTime()
    changed_by = fields.String(allow_none=True)


class VersionOut(Schema):
    version = fields.String()
    artifact_id = fields.String()
    version_source = fields.Function(lambda v: v.version_source.value)
    created_at = fields.DateTime()


class UploadRecordOut(Schema):
    id = fields.Integer()
    artifact_id = fields.String()
    original_name = fields.String()
    uploader = fields.String(allow_none=True)
    tag = fields.String(allow_none=True)
    version = fields.String(allow_none=True)
    created_at = fields.DateTime()


class HeldArtifactOut(ArtifactOut):
    uploads = fields.Integer()


class ErrorOut(Schema):
    detail = fields.String(required=True)


def page_of(item_schema: type[Schema], page) -> dict:
    return {
        "items": item_schema(many=True).dump(page.items),
        "pagination": PaginationOut().dump(page),
    }
