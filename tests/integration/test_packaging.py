"""The package builds cleanly, ships every module and migration, and pins its majors.

``make run`` installs from this configuration; a setuptools warning there was the first
thing a new user read, and a migration left out of the wheel breaks every Docker start.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("domain", "adapters", "entrypoints", "setup.cfg", "pyproject.toml", "README.md")


def requirements(section: str, key: str) -> list[Requirement]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config[section][key].splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, set[str]]:
    """The build's output and the wheel's file names, from a copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    out = source / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return result.stdout + result.stderr, set(archive.namelist())


def test_the_build_gives_no_package_configuration_warning(built) -> None:
    output, _ = built
    assert "absent from the `packages` configuration" not in output
    assert "Package would be ignored" not in output


def test_the_wheel_holds_every_module_and_the_migrations(built) -> None:
    _, names = built
    for package in ("domain", "adapters", "entrypoints"):
        for module in (ROOT / package).rglob("*.py"):
            assert module.relative_to(ROOT).as_posix() in names
    assert "adapters/migrations/script.py.mako" in names
    assert any(n.startswith("adapters/migrations/versions/0001_") for n in names)


def test_every_runtime_dependency_is_pinned_below_its_next_major() -> None:
    for requirement in requirements("options", "install_requires"):
        assert any(spec.operator == "<" for spec in requirement.specifier), str(requirement)
        assert any(spec.operator == ">=" for spec in requirement.specifier), str(requirement)


def test_every_test_tool_is_pinned_below_its_next_major() -> None:
    """Below the next major, or exactly (the chart renderer embeds Helm's engine and is
    pinned to one release, with snapshot tests of what it renders)."""
    for requirement in requirements("options.extras_require", "test"):
        operators = {spec.operator for spec in requirement.specifier}
        assert "<" in operators or "==" in operators, str(requirement)


def make_dry_run(tmp_path: Path, target: str) -> str:
    """What ``make TARGET`` would run in a fresh clone (``make -n``: nothing is run)."""
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    result = subprocess.run(
        ["make", "-n", target], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_run_installs_the_runtime_only_and_quietly(tmp_path) -> None:
    commands = make_dry_run(tmp_path, "run")
    installs = [line for line in commands.splitlines() if "pip install" in line]
    assert installs == [".venv/bin/pip install -qq --disable-pip-version-check -e ."]


def test_the_test_targets_add_the_test_and_lint_tools(tmp_path) -> None:
    commands = make_dry_run(tmp_path, "unit")
    assert "-e '.[test]'" in commands
