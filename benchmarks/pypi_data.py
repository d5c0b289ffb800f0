"""The distributions the PyPI scenarios use, a static copy of the index, and a fast filler.

- 1,000 one-file projects (``filler-0000``...): the root listing has 1,000+ entries;
- ``dep-00``..``dep-09`` and ``app`` (which requires all ten): the install scenario;
- per round, 200 wheels of ``twine-seq-rN`` (sequential twine) and ``twine-par-rN``
  (4 parallel twines); round 0 of the sequential set is the 200-file project page;
- per round, one 200 MB wheel ``bigwheel`` (version ``1.N``).

Filling the 1,012 background files goes through our own threaded client speaking the
legacy upload API, because twine would spend minutes on files nobody measures.
"""

from __future__ import annotations

import hashlib
import html
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks import dists

FILLERS = 1000
PAGE_FILES = 200


def build(root: Path, rounds: int, big_mb: int) -> dict[str, list[Path]]:
    """Write every distribution once (reused by later runs); return them by group."""
    groups: dict[str, list[Path]] = {}

    def group(name: str, make, directory_name: str | None = None) -> None:
        directory = root / (directory_name or name)
        if not (directory / ".done").exists():
            directory.mkdir(parents=True, exist_ok=True)
            make(directory)
            (directory / ".done").touch()
        groups[name] = sorted(directory.glob("*.whl"))

    group("filler", lambda d: [dists.wheel(d, f"filler-{i:04d}", "1.0") for i in range(FILLERS)])
    group("deps", _deps)
    for r in range(rounds):
        for kind in ("seq", "par"):
            group(f"twine-{kind}-r{r}", lambda d, k=kind, r=r: _page(d, f"twine-{k}-r{r}"))
        group(
            f"bigwheel-r{r}",
            lambda d, r=r: dists.wheel(d, "bigwheel", f"1.{r}", payload_size=big_mb * 10**6),
            f"bigwheel-{big_mb}MB-r{r}",
        )
    return groups


ROOT_PROJECTS = 5000  # issue #4 measures the root page with this many projects


def more_fillers(root: Path) -> list[Path]:
    """One-file projects ``filler-1000``... that bring the index to ``ROOT_PROJECTS``
    (made once, reused by later runs)."""
    directory = root / "filler-more"
    if not (directory / ".done").exists():
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(FILLERS, ROOT_PROJECTS):
            dists.wheel(directory, f"filler-{i:04d}", "1.0")
        (directory / ".done").touch()
    return sorted(directory.glob("*.whl"))


def _deps(directory: Path) -> None:
    names = [f"dep-{i:02d}" for i in range(10)]
    for name in names:
        dists.wheel(directory, name, "1.0")
    dists.wheel(directory, "app", "1.0", requires=tuple(names))


def _page(directory: Path, project: str) -> None:
    for i in range(PAGE_FILES):
        dists.wheel(directory, project, f"1.0.{i}")


def fill(server, files: list[Path], threads: int = 4) -> None:
    """Upload ``files`` with the legacy API (what twine sends), several at a time."""
    with httpx.Client(auth=server.auth, timeout=300) as client:

        def one(path: Path) -> None:
            name, version = path.name.split("-")[:2]
            data = path.read_bytes()
            form = {
                ":action": "file_upload",
                "protocol_version": "1",
                "metadata_version": "2.1",
                "name": name.replace("_", "-"),
                "version": version,
                "filetype": "bdist_wheel",
                "pyversion": "py3",
                "sha256_digest": hashlib.sha256(data).hexdigest(),
            }
            content = {"content": (path.name, data, "application/octet-stream")}
            response = client.post(server.upload_url, data=form, files=content)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{server.name}: {path.name}: {response.status_code}")

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, files))


def static_index(root: Path, files: list[Path], metadata: bool = True) -> None:
    """A PEP 503 tree of the same files for nginx: the fastest an index can be served.

    With ``metadata`` it is the same index as Orchard's: each wheel's ``METADATA`` next to
    it as ``<wheel>.metadata`` and announced on its anchor (PEP 658, and PEP 714's
    ``data-core-metadata``), so pip fetches the same URLs from both. Without, pip reads
    each wheel's metadata from the wheel itself and fetches one URL less per file.
    """
    projects: dict[str, list[Path]] = {}
    for path in files:
        projects.setdefault(path.name.split("-")[0].replace("_", "-"), []).append(path)
    packages = root / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    links = []
    for project, paths in sorted(projects.items()):
        links.append(f'<a href="{project}/">{project}</a>')
        page = root / "simple" / project
        page.mkdir(parents=True, exist_ok=True)
        anchors = []
        for path in paths:
            target = packages / path.name
            if not target.exists():
                os.link(path, target)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            attributes = [
                f'href="../../packages/{html.escape(path.name)}#sha256={digest}"',
                'data-requires-python="&gt;=3.8"',
            ]
            if metadata:
                body = wheel_metadata(path)
                (packages / f"{path.name}.metadata").write_bytes(body)
                value = html.escape(f"sha256={hashlib.sha256(body).hexdigest()}")
                attributes.append(f'data-dist-info-metadata="{value}" data-core-metadata="{value}"')
            anchors.append(f"<a {' '.join(attributes)}>{html.escape(path.name)}</a>")
        (page / "index.html").write_text(_html(anchors))
    (root / "simple" / "index.html").write_text(_html(links))


def wheel_metadata(path: Path) -> bytes:
    """The exact bytes of the wheel's ``<name>-<version>.dist-info/METADATA``."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            top, _, rest = member.partition("/")
            if top.endswith(".dist-info") and rest == "METADATA":
                return archive.read(member)
    raise ValueError(f"{path.name}: no .dist-info/METADATA")


def _html(anchors: list[str]) -> str:
    return "<!DOCTYPE html>\n<html><body>\n" + "<br>\n".join(anchors) + "\n</body></html>\n"
