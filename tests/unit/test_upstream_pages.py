"""Reading upstream project pages: PEP 691 JSON and PEP 503 HTML keep every field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.upstream.pages import parse_html, parse_json, parse_page
from domain.errors import UpstreamUnavailable

SHA = "ab" * 32
META = "cd" * 32
PAGE = "https://up.example/simple/demo/"


def test_json_keeps_every_pep_691_field():
    document = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "https://files.example/packages/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": SHA.upper(), "md5": "x"},
                "requires-python": ">=3.8",
                "yanked": "broken build",
                "size": 1234,
                "upload-time": "2024-05-01T10:11:12.123456Z",
                "core-metadata": {"sha256": META},
            }
        ],
    }
    (found,) = parse_json(json.dumps(document).encode(), PAGE)
    assert found.filename == "demo-1.0-py3-none-any.whl"
    assert found.url == "https://files.example/packages/demo-1.0-py3-none-any.whl"
    assert found.sha256 == SHA
    assert found.requires_python == ">=3.8"
    assert (found.yanked, found.yanked_reason) == (True, "broken build")
    assert found.size == 1234
    assert found.upload_time == datetime(2024, 5, 1, 10, 11, 12, 123456, tzinfo=UTC)
    assert found.metadata_sha256 == META


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"yanked": True}, (True, None)),
        ({"yanked": False}, (False, None)),
        ({"dist-info-metadata": {"sha256": META}}, META),  # the PEP 658 spelling
        ({"core-metadata": True}, None),  # present but unhashed: not advertised
        ({"upload-time": "not a time"}, None),
    ],
)
def test_json_variants(entry, expected):
    base = {"filename": "a-1.tar.gz", "url": "../../a-1.tar.gz", "hashes": {"sha256": SHA}}
    (found,) = parse_json(json.dumps({"files": [base | entry]}).encode(), PAGE)
    if "yanked" in entry:
        assert (found.yanked, found.yanked_reason) == expected
    elif "upload-time" in entry:
        assert found.upload_time is None
    else:
        assert found.metadata_sha256 == expected
    assert found.url == "https://up.example/a-1.tar.gz"  # relative to the page


@pytest.mark.parametrize(
    "entry",
    [
        {"url": "file:///etc/passwd"},  # only http(s) is followed
        {"url": "ftp://x/a-1.tar.gz"},
        {"hashes": {"md5": "00"}},  # no sha256: cannot be verified
        {"hashes": {"sha256": "zz"}},
        {"filename": "../evil"},
        {"filename": "a\r\nb"},
    ],
)
def test_json_files_orchard_cannot_follow_or_verify_are_left_out(entry):
    base = {"filename": "a-1.tar.gz", "url": "a-1.tar.gz", "hashes": {"sha256": SHA}}
    assert parse_json(json.dumps({"files": [base | entry]}).encode(), PAGE) == ()


def test_html_keeps_hashes_requires_python_yanks_and_metadata():
    html = f"""<html><body>
      <a href="../../packages/demo-1.0.tar.gz#sha256={SHA}"
         data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
      <a href="https://files.example/demo-2.0-py3-none-any.whl#sha256={SHA}"
         data-yanked="bad &amp; broken" data-core-metadata="sha256={META}">x</a>
      <a href="https://files.example/demo-3.0.tar.gz#sha256={SHA}" data-yanked>y</a>
      <a href="https://files.example/demo-4.0.tar.gz#md5=00">no sha256</a>
      <a href="javascript:alert(1)#sha256={SHA}">z</a>
    </body></html>"""
    first, second, third = parse_html(html, PAGE)
    assert first.url == "https://up.example/packages/demo-1.0.tar.gz"
    assert first.requires_python == ">=3.8"
    assert not first.yanked and first.metadata_sha256 is None
    assert second.filename == "demo-2.0-py3-none-any.whl"
    assert (second.yanked, second.yanked_reason) == (True, "bad & broken")
    assert second.metadata_sha256 == META
    assert (third.yanked, third.yanked_reason) == (True, None)


def test_html_base_href_resolves_relative_links():
    html = f'<base href="https://mirror.example/pkgs/"><a href="a-1.tar.gz#sha256={SHA}">a</a>'
    (found,) = parse_html(html, PAGE)
    assert found.url == "https://mirror.example/pkgs/a-1.tar.gz"


def test_the_media_type_picks_the_parser():
    body = json.dumps(
        {"files": [{"filename": "a-1.tar.gz", "url": "a", "hashes": {"sha256": SHA}}]}
    )
    assert len(parse_page(body.encode(), "application/vnd.pypi.simple.v1+json", PAGE)) == 1
    assert parse_page(b"<html></html>", "text/html; charset=utf-8", PAGE) == ()


def test_json_that_is_not_a_pep_691_page_is_an_upstream_failure():
    with pytest.raises(UpstreamUnavailable):
        parse_json(b"{not json", PAGE)
    with pytest.raises(UpstreamUnavailable):
        parse_json(b'{"files": 3}', PAGE)
