"""The command lines a package page offers: install with pip, uv and poetry, publish with
twine and uv, upload and download with curl.

Install lines name this index with ``--index-url`` (poetry: a primary source), never
``--extra-index-url``: with an extra index, pip and uv take the highest version from any
index, so anyone who publishes the same name on PyPI wins (dependency confusion).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import request

from domain.model import Distribution
from entrypoints.http.client_address import client_scheme, trusted_proxies
from entrypoints.http.context import services


@dataclass(frozen=True)
class Snippet:
    label: str
    text: str


def base_url() -> str:
    """This server as the browser reached it (the scheme a trusted proxy reports)."""
    return f"{client_scheme(request, trusted_proxies())}://{request.host}"


def index_url(project: str) -> str:
    if project == services().settings.default_index:
        return f"{base_url()}/simple/"
    return f"{base_url()}/pypi/{project}/simple/"


def upload_url(project: str) -> str:
    if project == services().settings.default_index:
        return f"{base_url()}/"
    return f"{base_url()}/pypi/{project}/"


def install_lines(project: str, package: str) -> list[Snippet]:
    index = index_url(project)
    return [
        Snippet("pip", f"pip install --index-url {index} {package}"),
        Snippet("uv", f"uv pip install --index-url {index} {package}"),
        Snippet(
            "poetry",
            f"poetry source add --priority=primary orchard {index}\n"
            f"poetry add --source orchard {package}",
        ),
    ]


def publish_lines(project: str) -> list[Snippet]:
    url = upload_url(project)
    return [
        Snippet("twine", f"twine upload --repository-url {url} -u __token__ dist/*"),
        Snippet("uv", f"uv publish --publish-url {url} --username __token__ dist/*"),
    ]


def generic_lines(project: str, package: str, ref: str | None, private: bool) -> list[Snippet]:
    api = f"{base_url()}/api/v1/project/{project}/{package}"
    ref = ref or "tag:latest"
    auth = '-H "Authorization: Bearer $ORCHARD_KEY" ' if private else ""
    return [
        Snippet(
            "Upload",
            f'curl -H "Authorization: Bearer $ORCHARD_KEY" -F file=@FILE -F tag=latest '
            f"{api}/upload",
        ),
        Snippet("Download", f"curl -fOJ {auth}{api}/+/{ref}"),
    ]


def file_link(project: str, file: Distribution) -> str:
    """Where the index serves a file (the same URL pip downloads)."""
    name = quote(file.filename, safe="")
    if project == services().settings.default_index:
        return f"/files/{file.artifact_id}/{name}"
    return f"/pypi/{quote(project, safe='')}/files/{file.artifact_id}/{name}"
