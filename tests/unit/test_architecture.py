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


@pytest.mark.parametrize("path", python_files("entrypoints/http"), ids=relative)
def test_views_import_no_adapter_sqlalchemy_or_boto3(path):
    # Views reach adapters only through the ports that bootstrap wired into Services.
    forbidden = {"adapters", "sqlalchemy", "boto3", "botocore", "minio"}
    found = {m for m in imported_modules(path) if top_level(m) in forbidden}
    assert not found, f"{relative(path)} imports {sorted(found)}"


PRODUCTION = ("domain", "adapters", "entrypoints")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Production module -> the production modules it imports. ``from package import
    name`` counts as importing ``package.name`` when that is a module, else ``package``
    (the package's ``__init__`` that Python runs on the way is no edge of ours)."""
    paths = [path for package in PRODUCTION for path in sorted((root / package).rglob("*.py"))]
    modules = {module_name(path, root): path for path in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                package = path.relative_to(root).parent.parts
                base = package[: len(package) - node.level + 1] if node.level else ()
                module = ".".join([*base, *([node.module] if node.module else [])])
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                    for alias in node.names
                ]
            else:
                continue
            edges |= {target for target in targets if target in modules and target != name}
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_no_import_cycle_among_production_modules():
    # A package's __init__ gathering its own modules (domain.ports, entrypoints.http.pypi)
    # is no cycle as long as those modules import their siblings, never the package.
    cycle = find_cycle(import_graph(ROOT))
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    package = tmp_path / "adapters"
    package.mkdir()
    (package / "a.py").write_text("from adapters import b\n", encoding="utf-8")
    (package / "b.py").write_text("def f():\n    from adapters.a import x\n", encoding="utf-8")
    (package / "c.py").write_text("import adapters.a\n", encoding="utf-8")
    graph = import_graph(tmp_path)
    assert graph == {
        "adapters.a": {"adapters.b"},
        "adapters.b": {"adapters.a"},
        "adapters.c": {"adapters.a"},
    }
    assert find_cycle(graph) == ["adapters.a", "adapters.b", "adapters.a"]


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


MAX_MODULE_LINES = 400


@pytest.mark.parametrize(
    "path", [p for package in PRODUCTION for p in python_files(package)], ids=relative
)
def test_no_production_module_is_over_400_lines(path):
    # Small modules with one job (STYLE.md): past this, split by concern.
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{relative(path)} has {lines} lines"
