"""Configuration: read once, from ``ORCHARD_*`` environment variables and an optional file.

The optional file (``ORCHARD_CONFIG_FILE``) holds ``KEY=value`` lines with the same names;
the environment wins over it. Only the composition root and the CLI read this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

GIB = 1024**3


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str = "./orchard-data"
    database_url: str = ""  # default: sqlite under data_dir
    blob_store: str = "filesystem"  # or "s3"
    blob_dir: str = ""  # default: <data_dir>/blobs
    direct_io: bool = True  # filesystem store: large uploads written with O_DIRECT
    s3_endpoint: str = ""
    s3_bucket: str = "orchard"
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_prefix: str = ""
    s3_create_bucket: bool = False
    s3_timeout: float = 10.0  # connect timeout, seconds
    s3_read_timeout: float = 60.0  # seconds without a byte from S3 before giving up
    admin_user: str = "admin"
    admin_password: str = ""
    secret_key: str = ""  # default: generated once into <data_dir>/secret_key
    max_upload_size: int = 10 * GIB
    download_mode: str = "proxy"  # or "redirect"
    presign_expiry: int = 300
    workers: int = 4
    threads: int = 8
    timeout: int = 600
    graceful_timeout: int = 120  # seconds in-flight requests get on SIGTERM
    default_index: str = "pypi"
    gc_grace: float = 3600.0
    log_level: str = "info"
    password_cache_seconds: float = 60.0
    # The default project's upstream index (docs/pypi.md); empty: nothing is sent out.
    upstream_url: str = ""
    upstream_username: str = ""
    upstream_password: str = field(default="", repr=False)  # never printed
    upstream_ttl: float = 600.0  # seconds a cached upstream page is fresh
    upstream_cooldown: float = 0.0  # upstream files younger than this are not offered
    upstream_stale_max_age: float = 7 * 86400.0  # longest a stale page is served
    upstream_negative_ttl: float = 60.0  # how long an upstream "not found" is remembered
    upstream_connect_timeout: float = 3.0
    upstream_read_timeout: float = 20.0
    upstream_revalidate_wait: float = 5.0  # a request with a stale copy waits this long

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'orchard.db'}"

    @property
    def resolved_blob_dir(self) -> Path:
        return Path(self.blob_dir or Path(self.data_dir) / "blobs").resolve()

    def with_overrides(self, **changes: object) -> Settings:
        return Settings(**{**self.__dict__, **changes})


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a config file (if named) overlaid with the environment."""
    environ = os.environ if environ is None else environ
    values = dict(_read_file(environ.get("ORCHARD_CONFIG_FILE")))
    values.update({k: v for k, v in environ.items() if k.startswith("ORCHARD_")})
    kwargs = {}
    for spec in fields(Settings):
        raw = values.get(f"ORCHARD_{spec.name.upper()}")
        if raw is not None:
            kwargs[spec.name] = _convert(spec.name, raw, spec.type)
    settings = Settings(**kwargs)
    _validate(settings)
    return settings


def _read_file(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    pairs = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip().strip('"')))
    return pairs


def _convert(name: str, raw: str, kind: object) -> object:
    try:
        if kind in (bool, "bool"):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if kind in (int, "int"):
            return int(_size(raw))
        if kind in (float, "float"):
            return float(raw)
    except ValueError:
        raise ValueError(f"ORCHARD_{name.upper()}: cannot read {raw!r}") from None
    return raw


def _size(raw: str) -> int:
    """Integers, with an optional K/M/G suffix for sizes (``ORCHARD_MAX_UPLOAD_SIZE=5G``)."""
    raw = raw.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": 1024**2, "G": GIB, "T": 1024 * GIB}
    if raw and raw[-1] in units:
        return int(float(raw[:-1]) * units[raw[-1]])
    return int(raw)


def _validate(settings: Settings) -> None:
    if settings.blob_store not in ("filesystem", "s3"):
        raise ValueError("ORCHARD_BLOB_STORE must be 'filesystem' or 's3'.")
    if settings.download_mode not in ("proxy", "redirect"):
        raise ValueError("ORCHARD_DOWNLOAD_MODE must be 'proxy' or 'redirect'.")
    if settings.max_upload_size < 1:
        raise ValueError("ORCHARD_MAX_UPLOAD_SIZE must be positive.")
    _validate_upstream(settings)


def _validate_upstream(settings: Settings) -> None:
    url = settings.upstream_url
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError("ORCHARD_UPSTREAM_URL must be an http:// or https:// URL.")
    for name in ("ttl", "cooldown", "stale_max_age", "negative_ttl"):
        if getattr(settings, f"upstream_{name}") < 0:
            raise ValueError(f"ORCHARD_UPSTREAM_{name.upper()} must not be negative.")
    if settings.upstream_revalidate_wait < 0:
        raise ValueError("ORCHARD_UPSTREAM_REVALIDATE_WAIT must not be negative.")
    for name in ("connect_timeout", "read_timeout"):
        if getattr(settings, f"upstream_{name}") <= 0:
            raise ValueError(f"ORCHARD_UPSTREAM_{name.upper()} must be positive.")
