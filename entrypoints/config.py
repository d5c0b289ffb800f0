"""Configuration: read once, from ``ORCHARD_*`` environment variables and an optional file.

The optional file (``ORCHARD_CONFIG_FILE``) holds ``KEY=value`` lines with the same names;
the environment wins over it. Only the composition root and the CLI read this module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any

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
    max_json_depth: int = 32  # nesting of a JSON request body (arrays and objects)
    # Login throttling (domain/services/login_throttle.py); a limit of 0 turns it off.
    login_failures_per_user: int = 5  # per username and client address, in the window
    login_failures_per_address: int = 100  # per client address alone: generous (NAT)
    login_failure_window: float = 900.0  # seconds a failure is remembered
    login_lockout: float = 60.0  # first lockout, seconds; doubles with each further failure
    login_max_lockout: float = 900.0  # the longest lockout, seconds
    trusted_proxies: str = ""  # addresses/networks whose X-Forwarded-For is believed

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'orchard.db'}"

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``trusted_proxies`` parsed: comma-separated addresses or CIDR networks."""
        parts = [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]
        return tuple(ip_network(part, strict=False) for part in parts)

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
    # Any: each value is converted to its own field's type (``_convert``), which a
    # dict of one value type cannot say.
    kwargs: dict[str, Any] = {}
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
    if settings.max_json_depth < 2:
        raise ValueError("ORCHARD_MAX_JSON_DEPTH must be at least 2.")
    _validate_throttling(settings)


def _validate_throttling(settings: Settings) -> None:
    for name in ("login_failures_per_user", "login_failures_per_address"):
        if getattr(settings, name) < 0:
            raise ValueError(f"ORCHARD_{name.upper()} must be 0 (off) or more.")
    for name in ("login_failure_window", "login_lockout", "login_max_lockout"):
        if getattr(settings, name) <= 0:
            raise ValueError(f"ORCHARD_{name.upper()} must be a positive number of seconds.")
    try:
        settings.trusted_proxy_networks  # noqa: B018 - parsed to be checked
    except ValueError as error:
        raise ValueError(
            f"ORCHARD_TRUSTED_PROXIES: {error} (give addresses or networks, comma-separated)."
        ) from None
