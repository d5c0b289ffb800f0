"""The examples of a Markdown document, as the doc-examples test runs them.

The convention, for whoever writes the documents:

- Every fenced ```` ```sh ```` block is an example and runs, top to bottom, against a live
  Orchard, each in a fresh working directory with ``bash -euo pipefail``; ``curl`` fails
  on an HTTP error. Blocks in other languages, or with no language, never run.
- An HTML comment on the line just above a fence changes that: ``<!-- example: skip:
  REASON -->`` keeps a ``sh`` block from running (the reason is required and is shown in
  the test report); ``<!-- example: file PATH -->`` writes the block that follows (any
  language) to ``PATH`` (``~`` is the example's home) before later blocks run;
  ``<!-- example: project NAME VERSION -->`` makes the working directory's Python project
  ``NAME`` at ``VERSION`` instead of ``mypkg``; ``<!-- example: in the checkout -->``
  runs the block from the repository root with no virtualenv on the ``PATH``.
- Placeholders a reader replaces are replaced: ``HOST:8080`` and ``127.0.0.1:8080`` by
  the live server's address, a bare ``KEY`` by an API key, ``PASSWORD`` by the
  administrator's password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Example:
    document: str
    line: int  # of the opening fence, 1-based
    language: str
    body: str
    marker: str = ""
    options: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.document}:{self.line}"

    @property
    def skip_reason(self) -> str | None:
        return self.options.get("skip")

    @property
    def runs(self) -> bool:
        return self.language == "sh" and "skip" not in self.options and "file" not in self.options


def examples(path: Path, root: Path) -> list[Example]:
    """Every fenced block of the document, with the marker just above it parsed."""
    lines = path.read_text().splitlines()
    found, index = [], 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        marker = _MARKER.match(lines[index - 1]) if index else None
        text = marker.group(1) if marker else ""
        found.append(
            Example(
                document=str(path.relative_to(root)),
                line=index + 1,
                language=opening.group(1),
                body="\n".join(lines[index + 1 : end]) + "\n",
                marker=text,
                options=parse_marker(text),
            )
        )
        index = end + 1
    return found


def parse_marker(text: str) -> dict[str, str]:
    """``skip: REASON`` -> {"skip": REASON}; ``file PATH`` -> {"file": PATH};
    ``project NAME VERSION`` -> {"project": "NAME VERSION"}; ``in the checkout``."""
    if not text:
        return {}
    if text.startswith("skip:"):
        return {"skip": text.removeprefix("skip:").strip()}
    word, _, rest = text.partition(" ")
    if word in ("file", "project"):
        return {word: rest.strip()}
    if text == "in the checkout":
        return {"checkout": ""}
    raise ValueError(f"unknown example marker: {text!r}")


def substitute(body: str, *, url: str, key: str, password: str) -> str:
    """The example as a reader would type it, placeholders filled in."""
    address = url.removeprefix("http://")
    body = body.replace("HOST:8080", address).replace("127.0.0.1:8080", address)
    body = re.sub(r"(?<![\w$])KEY(?![\w=])", key, body)
    return re.sub(r"(?<![\w$])PASSWORD(?![\w=])", password, body)
