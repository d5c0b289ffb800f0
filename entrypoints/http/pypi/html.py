"""PEP 503 HTML (with PEP 592 yanks, PEP 629 version meta, PEP 658/714 metadata links).

Every value a client could have chosen (names, filenames, requires-python, yank reasons)
goes through ``html.escape``; filenames in URLs are percent-encoded first.
"""

from __future__ import annotations

from html import escape

from domain.services.pypi.index import IndexFile, ProjectPage, RootPage
from entrypoints.http.pypi.links import file_url

REPOSITORY_VERSION = "1.1"

_HEAD = """<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="{version}">
    <title>{title}</title>
  </head>
  <body>
    <h1>{title}</h1>
"""
_TAIL = """  </body>
</html>
"""


def render_root(page: RootPage) -> str:
    links = "".join(
        f'    <a href="{escape(name)}/">{escape(name)}</a><br>\n' for name in page.names
    )
    return _page("Simple index", links)


def render_project(page: ProjectPage) -> str:
    links = "".join(f"    {_anchor(f)}<br>\n" for f in page.files)
    return _page(f"Links for {page.name}", links)


def _page(title: str, body: str) -> str:
    return _HEAD.format(version=REPOSITORY_VERSION, title=escape(title)) + body + _TAIL


def _anchor(file: IndexFile) -> str:
    attributes = [f'href="{escape(file_url(file))}#sha256={file.sha256}"']
    if file.requires_python:
        attributes.append(f'data-requires-python="{escape(file.requires_python)}"')
    if file.metadata_sha256:
        value = f"sha256={file.metadata_sha256}"
        attributes.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
    if file.yanked:
        attributes.append(f'data-yanked="{escape(file.yanked_reason or "")}"')
    return f"<a {' '.join(attributes)}>{escape(file.filename)}</a>"
