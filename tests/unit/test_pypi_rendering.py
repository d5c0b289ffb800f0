"""The index renderers (PEP 503 HTML, PEP 691 JSON) and content negotiation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from domain.services.pypi.index import IndexFile, ProjectPage, RootKey, RootPage
from entrypoints.http.pypi import html
from entrypoints.http.pypi import json as json_renderer
from entrypoints.http.pypi.negotiation import HTML_V1, JSON_V1, TEXT_HTML, choose_media_type

SHA = "a" * 64
HOSTILE = '<script>alert("x")</script>'


def a_file(**changes) -> IndexFile:
    values = {
        "filename": "demo-1.0-py3-none-any.whl", "version": "1.0", "sha256": SHA, "size": 42,
        "upload_time": datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "requires_python": ">=3.9",
        "yanked": False, "yanked_reason": None, "metadata_sha256": "b" * 64,
    } | changes  # fmt: skip
    return IndexFile(**values)


def a_page(*files: IndexFile) -> ProjectPage:
    return ProjectPage("demo", files, ("1.0",), package_id=7, serial=3)


def test_html_escapes_every_client_value() -> None:
    page = html.render_project(a_page(a_file(requires_python=HOSTILE, yanked=True,
                                             yanked_reason=HOSTILE)))  # fmt: skip
    assert "<script>" not in page
    assert 'data-requires-python="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in page
    assert 'data-yanked="&lt;script&gt;' in page


def test_html_links_carry_hash_metadata_and_version_meta() -> None:
    page = html.render_project(a_page(a_file(), a_file(filename="demo-1.0.tar.gz",
                                                        metadata_sha256=None)))  # fmt: skip
    assert '<meta name="pypi:repository-version" content="1.1">' in page
    assert f'href="../../files/{SHA}/demo-1.0-py3-none-any.whl#sha256={SHA}"' in page
    assert page.count("data-core-metadata=") == 1 and page.count("data-dist-info-metadata=") == 1
    assert "data-yanked" not in page


def test_root_html_escapes_names() -> None:
    assert "&lt;b&gt;" in html.render_root(RootPage(("<b>",), RootKey(1, 0)))


def test_json_follows_pep_691_and_700() -> None:
    document = json.loads(
        json_renderer.render_project(a_page(a_file(yanked=True, yanked_reason="bad")))
    )
    assert document["meta"]["api-version"] == "1.1" and document["versions"] == ["1.0"]
    (file,) = document["files"]
    assert file == {
        "filename": "demo-1.0-py3-none-any.whl",
        "url": f"../../files/{SHA}/demo-1.0-py3-none-any.whl",
        "hashes": {"sha256": SHA},
        "core-metadata": {"sha256": "b" * 64},
        "dist-info-metadata": {"sha256": "b" * 64},
        "yanked": "bad",
        "size": 42,
        "upload-time": "2024-05-01T12:00:00.000000Z",
        "requires-python": ">=3.9",
    }
    plain = json.loads(json_renderer.render_project(a_page(a_file(metadata_sha256=None))))
    assert plain["files"][0]["yanked"] is False and plain["files"][0]["core-metadata"] is False


@pytest.mark.parametrize(
    ("accept", "override", "expected"),
    [
        (None, None, TEXT_HTML),
        ("", None, TEXT_HTML),
        ("*/*", None, TEXT_HTML),
        ("text/html", None, TEXT_HTML),
        (JSON_V1, None, JSON_V1),
        (HTML_V1, None, HTML_V1),
        (f"{JSON_V1}, {HTML_V1};q=0.1, text/html;q=0.01", None, JSON_V1),  # pip
        (f"{JSON_V1}, {HTML_V1};q=0.2, text/html;q=0.01", None, JSON_V1),  # uv
        (f"{JSON_V1};q=0.5, text/html", None, TEXT_HTML),
        ("application/*", None, HTML_V1),
        ("application/json", None, None),
        ("text/plain", None, None),
        (f"{JSON_V1};q=0", None, None),
        ("text/html", JSON_V1, JSON_V1),
        (None, JSON_V1.replace("+", " "), JSON_V1),  # "+" unencoded in a query is a space
        (None, HTML_V1.replace("+", " "), HTML_V1),
        (None, "application/vnd.pypi.simple.v1 xml", None),
        (None, "application/xml", None),
    ],
)
def test_content_negotiation(accept, override, expected) -> None:
    assert choose_media_type(accept, override) == expected
