"""The OpenAPI 3 document, generated from the same marshmallow schemas the views load
and dump, and from the app's URL map (so a route cannot exist undocumented)."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from entrypoints.http import schemas as s

# endpoint -> (summary, request schema, response schema)
ENDPOINTS: dict[str, tuple[str, type | None, type | None]] = {
    "auth.login": ("Log in; sets the session cookie", s.LoginIn, None),
    "auth.create_key": (
        "Create an API key (the secret is shown once)",
        s.ApiKeyIn,
        s.CreatedKeyOut,
    ),
    "auth.create_user": ("Create a user (admin)", s.UserIn, s.UserOut),
    "projects.create_project": ("Create a project", s.ProjectIn, s.ProjectOut),
    "projects.get_project": ("A project", None, s.ProjectOut),
    "projects.update_project": ("Change a project", s.ProjectPatch, s.ProjectOut),
    "projects.set_member": ("Grant a role in a project", s.MemberIn, s.MemberOut),
    "projects.create_package": ("Create a package", s.PackageIn, s.PackageOut),
    "projects.get_package": ("A package", None, s.PackageOut),
    "artifacts.upload": ("Upload a file (multipart: file, tag, version)", None, s.UploadOut),
    "artifacts.download": ("Download by tag:, version:, artifact: or bare reference", None, None),
    "artifacts.set_tag": ("Create or move a tag", s.TagIn, s.TagOut),
    "artifacts.get_tag": ("A tag", None, s.TagOut),
    "artifacts.get_version": ("A version", None, s.VersionOut),
    "artifacts.get_artifact": ("Artifact details", None, s.ArtifactOut),
}

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def build_spec(app: Flask) -> dict:
    spec = APISpec(
        title="Orchard", version="1.0.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()]
    )
    spec.components.schema("Error", schema=s.ErrorOut)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/v1") or rule.rule in ("/health", "/ready"):
            path = _CONVERTER.sub(r"{\1}", rule.rule)
            spec.path(path=path, operations=_operations(rule))
    return spec.to_dict()


def _operations(rule) -> dict:
    summary, request_schema, response_schema = ENDPOINTS.get(
        rule.endpoint, (rule.endpoint.replace("_", " ").split(".")[-1], None, None)
    )
    operations = {}
    for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
        op: dict = {
            "summary": summary,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in rule.arguments
            ],
            "responses": {
                "200": {"description": "OK"},
                "default": {
                    "description": "Error",
                    "content": {"application/json": {"schema": "Error"}},
                },
            },
        }
        if response_schema is not None:
            op["responses"]["200"]["content"] = {"application/json": {"schema": response_schema}}
        if request_schema is not None and method in ("POST", "PUT", "PATCH"):
            op["requestBody"] = {"content": {"application/json": {"schema": request_schema}}}
        if rule.endpoint == "artifacts.upload":
            op["requestBody"] = _upload_body()
        operations[method.lower()] = op
    return operations


def _upload_body() -> dict:
    return {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "tag": {"type": "string"},
                        "version": {"type": "string"},
                    },
                }
            }
        }
    }
