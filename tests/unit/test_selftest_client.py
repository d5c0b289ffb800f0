"""The selftest's small pure parts: reading an index page as pip does, and keeping the
password out of anything it prints or hands to pip's command line."""

from __future__ import annotations

from entrypoints.selftest.client import Server
from entrypoints.selftest.index_page import links

PAGE = """<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"></head>
<body><h1>Links for demo</h1>
<a href="../../files/ab12/demo-1.0.tar.gz#sha256=ab12"
   data-requires-python="&gt;=3.8">demo-1.0.tar.gz</a>
<a href="https://cdn.example/demo-1.0-py3-none-any.whl">demo-1.0-py3-none-any.whl</a>
</body></html>"""


def test_links_resolve_against_the_page_and_carry_their_sha256():
    found = links("http://host/pypi/p/simple/demo/", PAGE)
    assert [(link.text, link.url, link.sha256) for link in found] == [
        ("demo-1.0.tar.gz", "http://host/pypi/p/files/ab12/demo-1.0.tar.gz", "ab12"),
        ("demo-1.0-py3-none-any.whl", "https://cdn.example/demo-1.0-py3-none-any.whl", None),
    ]


def test_the_index_url_for_pip_quotes_the_credentials():
    server = Server("http://orchard:8080/", project="team", username="ci@x", password="p@ss/w:rd")
    assert server.index_url == "http://orchard:8080/pypi/team/simple/"
    assert server.index_url_with_credentials() == (
        "http://ci%40x:p%40ss%2Fw%3Ard@orchard:8080/pypi/team/simple/"
    )


def test_without_a_user_pip_gets_the_plain_index_url():
    assert Server("http://orchard:8080").index_url_with_credentials() == (
        "http://orchard:8080/pypi/pypi/simple/"
    )


def test_redact_masks_the_password_in_clear_and_quoted():
    server = Server("http://o", username="admin", password="p@ss word")
    said = server.redact("pip: http://admin:p%40ss%20word@o failed; p@ss word")
    assert "p@ss" not in said and "p%40ss" not in said
    assert said.count("****") == 2


def test_the_password_is_not_in_the_servers_repr():
    assert "hunter2" not in repr(Server("http://o", username="a", password="hunter2"))
