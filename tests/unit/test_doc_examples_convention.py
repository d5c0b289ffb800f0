"""The convention the doc-examples test reads (tests/harness/doc_examples.py): markers,
placeholders, and that no shell example of the documents is left out silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.doc_examples import examples, parse_marker, substitute

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/pypi.md")


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_shell_block_runs_or_says_why_not(document):
    found = examples(ROOT / document, ROOT)
    assert any(e.runs for e in found)
    for example in found:
        if example.language == "sh" and not example.runs:
            assert example.skip_reason, f"{example.where}: a skipped example needs a reason"


def test_markers_are_parsed_and_an_unknown_one_is_an_error():
    assert parse_marker("skip: needs Docker") == {"skip": "needs Docker"}
    assert parse_marker("file ~/.pypirc") == {"file": "~/.pypirc"}
    assert parse_marker("project helm-test-package 1.0.0") == {"project": "helm-test-package 1.0.0"}
    assert parse_marker("in the checkout") == {"checkout": ""}
    with pytest.raises(ValueError, match="unknown example marker"):
        parse_marker("run quietly")


def test_placeholders_are_filled_but_shell_variables_of_the_same_name_are_kept():
    text = (
        "H=http://127.0.0.1:8080\nKEY=$(make-key)\ncurl -u __token__:$KEY http://HOST:8080/\n"
        "UV_PUBLISH_TOKEN=KEY uv publish\npassword = KEY\n"
        '{"password":"PASSWORD"} $ORCHARD_ADMIN_PASSWORD\n'
    )
    assert substitute(text, url="http://127.0.0.1:5000", key="orch_x", password="pw") == (
        "H=http://127.0.0.1:5000\nKEY=$(make-key)\ncurl -u __token__:$KEY http://127.0.0.1:5000/\n"
        "UV_PUBLISH_TOKEN=orch_x uv publish\npassword = orch_x\n"
        '{"password":"pw"} $ORCHARD_ADMIN_PASSWORD\n'
    )
