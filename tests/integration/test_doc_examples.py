"""The shell examples of the README and docs/pypi.md, run as written against a live
Orchard, so that a wrong example fails the build (the convention is in
``tests/harness/doc_examples.py``).

Each runnable block gets a fresh working directory that is a small Python project
(``mypkg`` 1.0.0, or what its ``project`` marker names) with an upload file
``fw-1.4.0.bin`` and, when the block names ``dist/``, the project's distributions built
there; a block that runs pip gets a fresh virtualenv first on its ``PATH``, so that an
install really reaches Orchard. ``orchard`` runs with the server's settings; twine, uv
and poetry are the real tools (poetry in a virtualenv of its own, installed from the
package index as ``test_publishers.py`` does). A block fails on a non-zero exit status,
and on output no terminal could show (binary written to stdout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import login
from tests.harness.doc_examples import Example, examples, substitute
from tests.harness.live_server import build_server
from tests.integration.pypi import clients

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("README.md", "docs/pypi.md")
# curl exits 0 on a 404: every HTTP error must fail the example instead.
CURL = 'curl() { command curl --fail-with-body --silent --show-error "$@"; }\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    server = build_server("sqlite-fs", tmp_path_factory.mktemp("docs"), request)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_key(server) -> str:
    with login(server.url, server.admin_user, server.admin_password) as client:
        response = client.post("/api/v1/auth/keys", json={"name": "doc-examples"})
        assert response.status_code == 200, response.text
        return response.json()["key"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """``projects(name, version)``: a built project directory, made once, copied per use."""
    root = tmp_path_factory.mktemp("doc-projects")
    built: dict[str, Path] = {}

    def get(spec: str) -> Path:
        if spec not in built:
            built[spec] = build_project(root / spec.replace(" ", "-"), *spec.split())
        return built[spec]

    return get


@pytest.fixture(scope="module")
def poetry_bin(tmp_path_factory) -> Path:
    env = clients.client_env(tmp_path_factory.mktemp("poetry-home"))
    executable, problem = clients.install_publisher(
        tmp_path_factory.mktemp("poetry"), "poetry", env
    )
    if problem is not None:
        pytest.fail(f"cannot install poetry from the package index: {problem}", pytrace=False)
    return executable.parent


def build_project(path: Path, name: str, version: str) -> Path:
    module = name.replace("-", "_")
    (path / module).mkdir(parents=True)
    (path / module / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\nrequires-python = ">=3.8"\n\n'
        f'[tool.setuptools]\npackages = ["{module}"]\n'
    )
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(path / "dist")]
    subprocess.run([*build, str(path)], check=True, capture_output=True)
    shutil.rmtree(path / "build", ignore_errors=True)
    (path / "fw-1.4.0.bin").write_bytes(os.urandom(4096))
    return path


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_documents_examples_run_as_written(
    document, server, api_key, projects, request, tmp_path
):
    home = tmp_path / "home"
    home.mkdir()
    ran = []
    for number, example in enumerate(examples(ROOT / document, ROOT)):
        text = substitute(example.body, url=server.url, key=api_key, password=server.admin_password)
        if "file" in example.options:
            target = Path(example.options["file"].replace("~", str(home), 1))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            continue
        if not example.runs:
            continue
        poetry = request.getfixturevalue("poetry_bin") if "poetry " in text else None
        workdir = tmp_path / f"block-{number}"
        result = run_example(example, text, server, api_key, home, workdir, projects, poetry)
        stdout, stderr = (result.stdout.decode(errors="replace"),
                          result.stderr.decode(errors="replace"))  # fmt: skip
        assert result.returncode == 0, (
            f"{example.where} failed (exit {result.returncode}):\n{text}\n"
            f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
        )
        assert printable(result.stdout), f"{example.where} writes binary to the terminal"
        ran.append(example.where)
    assert ran, f"{document} has no example that runs"


def run_example(
    example: Example,
    text: str,
    server,
    api_key: str,
    home: Path,
    workdir: Path,
    projects,
    poetry: Path | None,
) -> subprocess.CompletedProcess:
    env = example_env(server, home)
    if "checkout" in example.options:
        cwd = ROOT
        env["PATH"] = os.pathsep.join(
            p for p in env["PATH"].split(os.pathsep) if not Path(p, "activate").exists()
        )
    else:
        cwd = workdir
        shutil.copytree(projects(example.options.get("project", "mypkg 1.0.0")), workdir)
        if "dist/" not in text:  # a recipe that builds for itself starts from a clean tree
            shutil.rmtree(workdir / "dist")
        path = [str(Path(sys.executable).parent)]
        if poetry is not None:
            path.append(str(poetry))
        if "pip " in text:  # a fresh virtualenv, so that an install really reaches Orchard
            venv = workdir.with_name(workdir.name + "-venv")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            path.insert(0, str(venv / "bin"))
            env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = os.pathsep.join([*path, env["PATH"]])
    if "twine upload" in text and " -r " not in text:
        # twine asks at a prompt for what .pypirc would hold; a reader types a key.
        env.update(TWINE_USERNAME="__token__", TWINE_PASSWORD=api_key)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", CURL + text],
        cwd=cwd, env=env, capture_output=True, timeout=900, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def printable(output: bytes) -> bool:
    """What a terminal can show: UTF-8 text, with no control characters but tab, CR/LF and
    the escape that starts a tool's colours and progress bars."""
    try:
        text = output.decode()
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n\x1b" for c in text)


def example_env(server, home: Path) -> dict[str, str]:
    """The server's settings (for ``orchard``), a home of the example's own, and no
    client configuration of the machine's: only what the documents write counts."""
    own = ("PIP_", "UV_", "TWINE_", "POETRY_", "VIRTUAL_ENV", "XDG_")
    env = {k: v for k, v in server.env.items() if not k.startswith(own)}
    return {
        **env,
        "HOME": str(home),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "UV_CACHE_DIR": str(home / ".cache" / "uv"),
        "POETRY_KEYRING_ENABLED": "false",
        "POETRY_NO_INTERACTION": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TWINE_NON_INTERACTIVE": "1",
    }
