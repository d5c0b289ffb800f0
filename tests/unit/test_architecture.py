"""The direction of imports (STYLE.md): domain knows nothing of the rest, adapters know
the domain only. Checked on the source with ``ast``, so nothing is imported to check it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = {
    "flask",
    "werkzeug",
    "sqlalchemy",
    "boto3",
    "botocore",
    "minio",
    "marshmallow",
    "gunicorn",
}
DOMAIN_ALLOWED = set(sys.stdlib_module_names) | {"packaging", "domain", "__future__"}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module the file imports, relative imports resolved."""
    package = path.relative_to(ROOT).parent.parts
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            modules.add(module)
    return modules


def top_level(module: str) -> str:
    return module.split(".")[0]


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", python_files("domain"), ids=relative)
def test_domain_imports_no_framework_adapter_or_entrypoint(path):
    forbidden = FRAMEWORKS | {"adapters", "entrypoints"}
    found = {module for module in imported_modules(path) if top_level(module) in forbidden}
    assert not found, f"{relative(path)} imports {sorted(found)}"


@pytest.mark.parametrize("path", python_files("domain"), ids=relative)
def test_domain_imports_only_the_standard_library_and_packaging(path):
    found = {m for m in imported_modules(path) if top_level(m) not in DOMAIN_ALLOWED}
    assert not found, f"{relative(path)} imports {sorted(found)}"


@pytest.mark.parametrize("path", python_files("adapters"), ids=relative)
def test_adapters_never_import_entrypoints(path):
    found = {m for m in imported_modules(path) if top_level(m) == "entrypoints"}
    assert not found, f"{relative(path)} imports {sorted(found)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import flask", {"flask"}),
        ("import os.path as p", {"os.path"}),
        ("from sqlalchemy.orm import Session", {"sqlalchemy.orm"}),
        ("from ..adapters import orm", {"adapters"}),
        ("from . import model", {"domain"}),
        ("from .model import Tag", {"domain.model"}),
        ("def f():\n    import boto3", {"boto3"}),
    ],
)
def test_imports_are_found_wherever_they_are(tmp_path, source, expected, monkeypatch):
    # The checker itself: a relative or function-level import must not slip through.
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    path = tmp_path / "domain" / "module.py"
    path.parent.mkdir()
    path.write_text(source, encoding="utf-8")
    assert imported_modules(path) == expected
