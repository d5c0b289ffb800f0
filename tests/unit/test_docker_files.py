"""The Dockerfile and compose file cannot be built or run here (no Docker engine): these
tests keep them honest against the code they deploy — every variable they set is one
Orchard reads and documents, ports agree, the health check hits a real route, volumes and
the bucket line up."""

from __future__ import annotations

import re
import shlex
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from entrypoints.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "docker" / "Dockerfile"
COMPOSE = ROOT / "docker" / "compose.yaml"
ORCHARD_VAR = re.compile(r"\bORCHARD_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def orchard(compose: dict) -> dict:
    return compose["services"]["orchard"]


def instructions(dockerfile: str, name: str) -> list[str]:
    """Arguments of every ``NAME`` instruction (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(f"{name} ")]


def runtime_stage(dockerfile: str) -> str:
    return dockerfile.split("FROM ")[-1]


def settings_names() -> set[str]:
    return {f"ORCHARD_{spec.name.upper()}" for spec in fields(Settings)}


def readme_names() -> set[str]:
    return set(re.findall(r"^\| `(ORCHARD_[A-Z0-9_]+)`", (ROOT / "README.md").read_text(), re.M))


def used_names(dockerfile: str, orchard: dict) -> set[str]:
    return set(ORCHARD_VAR.findall(dockerfile)) | set(orchard["environment"])


class TestVariables:
    def test_every_variable_set_is_a_setting(self, dockerfile, orchard):
        assert used_names(dockerfile, orchard) - settings_names() == set()

    def test_every_variable_set_is_documented_in_the_readme(self, dockerfile, orchard):
        documented = readme_names() | {"ORCHARD_S3_ACCESS_KEY", "ORCHARD_S3_SECRET_KEY"}
        assert used_names(dockerfile, orchard) - documented == set()

    def test_the_readme_table_documents_every_setting(self):
        documented = readme_names() | {"ORCHARD_S3_SECRET_KEY"}  # one row with ACCESS_KEY
        undocumented = settings_names() - documented
        assert undocumented == set()

    def test_orchard_runs_on_postgresql_and_s3(self, orchard):
        env = orchard["environment"]
        assert env["ORCHARD_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["ORCHARD_DATABASE_URL"]
        assert env["ORCHARD_BLOB_STORE"] == "s3"
        assert env["ORCHARD_S3_ENDPOINT"] == "http://minio:9000"


class TestPorts:
    def test_published_port_is_orchard_port(self, orchard):
        port = orchard["environment"]["ORCHARD_PORT"]
        assert [p.rsplit(":", 1)[1] for p in orchard["ports"]] == [port]

    def test_the_image_exposes_and_listens_on_that_port(self, dockerfile, orchard):
        port = orchard["environment"]["ORCHARD_PORT"]
        assert instructions(dockerfile, "EXPOSE") == [port]
        env = " ".join(instructions(runtime_stage(dockerfile), "ENV"))
        assert f"ORCHARD_PORT={port}" in env
        assert "ORCHARD_HOST=0.0.0.0" in env


class TestImage:
    def test_builds_in_two_stages_from_python_slim(self, dockerfile):
        assert instructions(dockerfile, "FROM") == [
            "python:3.11-slim AS builder",
            "python:3.11-slim AS runtime",
        ]

    def test_runs_as_an_unprivileged_user(self, dockerfile):
        users = instructions(runtime_stage(dockerfile), "USER")
        assert users and users[-1] not in ("root", "0")

    def test_serves_through_orchard_serve_which_migrates_first(self, dockerfile):
        assert instructions(dockerfile, "ENTRYPOINT") == ['["orchard"]']
        assert instructions(dockerfile, "CMD") == ['["serve"]']

    def test_gunicorn_settings_have_one_source(self, dockerfile):
        # `orchard serve` passes entrypoints/gunicorn_config.py; the image adds none.
        assert "gunicorn" not in " ".join(instructions(dockerfile, "CMD"))
        assert not (ROOT / "docker" / "gunicorn.conf.py").exists()

    def test_data_directory_is_a_volume(self, dockerfile, orchard):
        data_dir = re.search(r"ORCHARD_DATA_DIR=(\S+)", dockerfile).group(1)
        assert instructions(dockerfile, "VOLUME") == [f'["{data_dir}"]']
        assert any(v.endswith(f":{data_dir}") for v in orchard["volumes"])

    def test_healthcheck_hits_a_route_the_app_serves(self, dockerfile, tmp_path):
        from entrypoints.http.app import create_app

        (check,) = instructions(dockerfile, "HEALTHCHECK")
        path = re.search(r"http://127\.0\.0\.1:[^/]+(/[A-Za-z0-9/_-]*)", check).group(1)
        app = create_app(Settings(data_dir=str(tmp_path)))
        assert path in {rule.rule for rule in app.url_map.iter_rules()}


class TestCompose:
    def test_named_volumes_are_declared(self, compose):
        declared = set(compose["volumes"])
        used = {
            volume.split(":", 1)[0]
            for service in compose["services"].values()
            for volume in service.get("volumes", [])
        }
        assert used and used <= declared
        assert not any(name.startswith((".", "/")) for name in used)  # no bind mounts

    def test_the_bucket_created_is_the_bucket_orchard_uses(self, compose, orchard):
        command = " ".join(compose["services"]["minio-init"]["command"])
        created = re.findall(r"mc mb (?:--ignore-existing )?local/(\S+)", command)
        assert created == [orchard["environment"]["ORCHARD_S3_BUCKET"]]

    def test_orchard_uses_the_minio_credentials(self, compose, orchard):
        minio = compose["services"]["minio"]["environment"]
        env = orchard["environment"]
        assert env["ORCHARD_S3_ACCESS_KEY"] == minio["MINIO_ROOT_USER"]
        assert env["ORCHARD_S3_SECRET_KEY"] == minio["MINIO_ROOT_PASSWORD"]

    def test_orchard_starts_after_its_backends(self, orchard):
        assert orchard["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "minio-init": {"condition": "service_completed_successfully"},
        }

    def test_stop_grace_outlasts_the_drain(self, orchard):
        grace = int(orchard["environment"]["ORCHARD_GRACEFUL_TIMEOUT"])
        assert int(orchard["stop_grace_period"].removesuffix("s")) > grace

    def test_database_password_agrees(self, compose, orchard):
        password = compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"]
        assert f"orchard:{password}@" in orchard["environment"]["ORCHARD_DATABASE_URL"]

    def test_shell_commands_parse(self, compose):
        for command in compose["services"]["minio-init"]["command"]:
            assert shlex.split(command)
