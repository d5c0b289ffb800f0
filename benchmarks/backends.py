"""PostgreSQL and S3 for Orchard's production shape, when this machine has them.

PostgreSQL: the local server at 127.0.0.1:5432 (trust auth), in a throwaway database
dropped at the end. S3: a ``moto_server`` process from Orchard's ``.venv``. Either missing
means the PostgreSQL + S3 configuration is skipped with the reason printed.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from benchmarks.util import VENV_BIN, free_port, spawn, stop, wait_http

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
S3_KEYS = {"access": "bench", "secret": "bench-secret", "region": "us-east-1"}


class Postgres:
    def __init__(self) -> None:
        self.name = f"orchard_bench_{secrets.token_hex(4)}"

    def create(self) -> str:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE DATABASE "{self.name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.name}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Moto:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [str(VENV_BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = spawn(argv, self.workdir / "moto.log")
        wait_http(f"{self.endpoint}/moto-api/", self.process)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEYS["access"],
            aws_secret_access_key=S3_KEYS["secret"],
            region_name=S3_KEYS["region"],
            config=Config(s3={"addressing_style": "path"}),
        )

    def orchard_env(self, bucket: str) -> dict[str, str]:
        return {
            "ORCHARD_BLOB_STORE": "s3",
            "ORCHARD_S3_ENDPOINT": self.endpoint,
            "ORCHARD_S3_BUCKET": bucket,
            "ORCHARD_S3_REGION": S3_KEYS["region"],
            "ORCHARD_S3_ACCESS_KEY": S3_KEYS["access"],
            "ORCHARD_S3_SECRET_KEY": S3_KEYS["secret"],
            "ORCHARD_S3_CREATE_BUCKET": "true",
        }

    def stop(self) -> None:
        stop(self.process)


def postgres_problem() -> str | None:
    """None when the local PostgreSQL accepts us, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # any failure means "skip, with this reason"
        return f"PostgreSQL at 127.0.0.1:5432 unavailable: {str(error).splitlines()[0]}"
    return None
