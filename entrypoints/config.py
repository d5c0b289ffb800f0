"""Configuration: read once, from ``ORCHARD_*`` environment variables and an optional file.

The optional file (``ORCHARD_CONFIG_FILE``) holds ``KEY=value`` lines with the same names;
the environment wins over it. Only the composition root and the CLI read this module.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
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
    # A local read-through cache of blobs (docs/blobstores.md, "Local cache"); off when empty.
    blob_cache_dir: str = ""
    blob_cache_size: int = 10 * GIB  # bytes the cache may hold (about: eviction lags)
    blob_cache_max_blob: int = 2 * 1024**3  # larger blobs are read from the store
    admin_user: str = "admin"
    admin_password: str = ""
    secret_key: str = ""  # default: generated once into <data_dir>/secret_key
    max_upload_size: int = 10 * GIB
    # Any body that is not a file upload (JSON, a form), and the non-file parts of an
    # upload form together (its fields, a PyPI description): small, refused with 413.
    max_body_size: int = 1024**2
    # Slow clients (docs/operations.md, "Security"): a request's line and headers must
    # arrive within header_timeout seconds; a body may pause at most body_timeout seconds.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
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
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """``trusted_proxies`` parsed: comma-separated addresses or CIDR networks."""
        parts = [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]
        return tuple(ip_network(part, strict=False) for part in parts)

    @property
    def resolved_blob_dir(self) -> Path:
        return Path(self.blob_dir or Path(self.data_dir) / "blobs").resolve()

    def with_overrides(self, **changes: object) -> Settings:
        return Settings(**{**self.__dict__, **changes})


class ConfigError(ValueError):
    """A setting Orchard cannot use: one sentence naming the variable, the value given
    and what would work, shown instead of a traceback (exit status 1)."""


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from a config file (if named) overlaid with the environment.

    Raises ConfigError, naming the first variable that cannot be used.
    """
    environ = os.environ if environ is None else environ
    values = dict(_read_file(environ.get("ORCHARD_CONFIG_FILE")))
    values.update({k: v for k, v in environ.items() if k.startswith("ORCHARD_")})
    # Any: each value is converted to its own field's type (``_convert``), which a
    # dict of one value type cannot say.
    kwargs: dict[str, Any] = {}
    for spec in fields(Settings):
        raw = values.get(variable(spec.name))
        if raw is not None:
            kwargs[spec.name] = _convert(spec.name, raw, spec.type)
            check_setting(spec.name, kwargs[spec.name], raw)
    return Settings(**kwargs)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A sentence for each ``ORCHARD_*`` variable that is no setting (a typo is otherwise
    silently ignored); the test harness's ``ORCHARD_TEST_*`` are not settings by design."""
    environ = os.environ if environ is None else environ
    known = [variable(spec.name) for spec in fields(Settings)] + ["ORCHARD_CONFIG_FILE"]
    sentences = []
    for name in sorted(environ):
        if name.startswith("ORCHARD_") and name not in known and "ORCHARD_TEST_" not in name:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            sentences.append(f"{name} is not an Orchard setting and is ignored{hint}.")
    return sentences


def variable(name: str) -> str:
    """The environment variable of a setting: ``port`` -> ``ORCHARD_PORT``."""
    return f"ORCHARD_{name.upper()}"


def _read_file(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise ConfigError(
            f"ORCHARD_CONFIG_FILE={path} cannot be read ({reason}): "
            "name a readable file of KEY=value lines, or unset it."
        ) from None
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip().strip('"')))
    return pairs


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def _convert(name: str, raw: str, kind: object) -> object:
    try:
        if kind in (bool, "bool"):
            word = raw.strip().lower()
            if word not in _TRUE + _FALSE:
                raise ValueError(raw)
            return word in _TRUE
        if kind in (int, "int"):
            return int(_size(raw))
        if kind in (float, "float"):
            return float(raw)
    except (ValueError, OverflowError):
        raise ConfigError(
            f"{variable(name)}={_shown(raw)} {_NOT_A[str(kind)]}; {_works(name)}."
        ) from None
    return raw


_NOT_A = {
    "bool": "is not true or false",
    "int": "is not a whole number",
    "float": "is not a number",
    str(bool): "is not true or false",
    str(int): "is not a whole number",
    str(float): "is not a number",
}


def _size(raw: str) -> int:
    """Integers, with an optional K/M/G suffix for sizes (``ORCHARD_MAX_UPLOAD_SIZE=5G``)."""
    raw = raw.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": 1024**2, "G": GIB, "T": 1024 * GIB}
    if raw and raw[-1] in units:
        return int(float(raw[:-1]) * units[raw[-1]])
    return int(raw)


# ------------------------------------------------------------------ what each setting takes

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# The domain's rules for a username and a password (domain/services/users.py), checked
# here too so that a bad first admin stops the start before anything is created.
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_SECRETS = (
    "admin_password",
    "secret_key",
    "s3_secret_key",
    "upstream_password",
)  # never echoed back


def _project_name(value: str) -> bool:
    from domain.errors import InvalidInput
    from domain.names import validate_project_name

    try:
        validate_project_name(value)
    except InvalidInput:
        return False
    return True


def _networks(value: str) -> bool:
    try:
        Settings(trusted_proxies=value).trusted_proxy_networks  # noqa: B018 - parsed to check
    except ValueError:
        return False
    return True


def _within(low: float, high: float = math.inf) -> Callable[[Any], bool]:
    return lambda value: low <= value <= high


# setting -> (is the converted value usable?, what would work). Numbers not named here
# must be 0 or more; other text is taken as given.
_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "host": (
        lambda v: bool(v.strip()) and not any(c.isspace() for c in v),
        "use an address or host name, such as 127.0.0.1 or 0.0.0.0",
    ),
    "port": (_within(1, 65535), "use a port from 1 to 65535"),
    "data_dir": (lambda v: bool(v.strip()), "use a directory path"),
    "database_url": (
        lambda v: not v or v.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")),
        "use sqlite:////path/to/orchard.db or postgresql+psycopg://user@host/dbname, or "
        "leave it unset for SQLite in the data dir",
    ),
    "blob_store": (lambda v: v in ("filesystem", "s3"), "use filesystem or s3"),
    "s3_endpoint": (
        lambda v: not v or v.startswith(("http://", "https://")),
        "use a URL such as http://minio:9000, or leave it unset for AWS",
    ),
    "s3_bucket": (lambda v: bool(v.strip()), "use a bucket name"),
    "blob_cache_dir": (
        lambda v: not v or bool(v.strip()),
        "use a directory path on local disk, or leave it empty for no cache",
    ),
    "blob_cache_size": (
        _within(1024**2),
        "use a size of at least 1M, in bytes or with K, M, G or T (10G)",
    ),
    "blob_cache_max_blob": (
        _within(1),
        "use a size above 0, in bytes or with K, M, G or T (2G)",
    ),
    "s3_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "s3_read_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "admin_user": (
        lambda v: bool(_USERNAME.fullmatch(v)) and v != "__token__",
        "use 1-64 letters, digits, '.', '_' or '-'",
    ),
    "admin_password": (
        lambda v: not v or 8 <= len(v) <= 1024,
        "use 8 to 1024 characters, or leave it unset to have one generated",
    ),
    "max_upload_size": (_within(1), "use a size above 0, in bytes or with K, M, G or T (10G)"),
    "download_mode": (lambda v: v in ("proxy", "redirect"), "use proxy or redirect"),
    "presign_expiry": (_within(1, 604800), "use 1 to 604800 seconds (S3's limit, 7 days)"),
    "workers": (_within(1), "use 1 or more worker processes"),
    "threads": (_within(1), "use 1 or more threads"),
    "default_index": (_project_name, "use a project name: a-z, 0-9, '.', '_' or '-'"),
    "log_level": (lambda v: v.lower() in _LOG_LEVELS, "use one of " + ", ".join(_LOG_LEVELS)),
    "max_body_size": (_within(1), "use a size above 0, in bytes or with K or M (1M)"),
    "header_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "body_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "upstream_url": (
        lambda v: not v or v.lower().startswith(("http://", "https://")),
        "use an http:// or https:// URL of a simple index, or leave it empty for none",
    ),
    "upstream_connect_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "upstream_read_timeout": (lambda v: v > 0, "use a number of seconds above 0"),
    "max_json_depth": (_within(2), "use a nesting depth of 2 or more"),
    "login_failure_window": (lambda v: v > 0, "use a number of seconds above 0"),
    "login_lockout": (lambda v: v > 0, "use a number of seconds above 0"),
    "login_max_lockout": (lambda v: v > 0, "use a number of seconds above 0"),
    "trusted_proxies": (
        _networks,
        "give addresses or networks, comma-separated, such as 10.0.0.0/8,127.0.0.1",
    ),
}
_AT_LEAST_ZERO = (_within(0), "use 0 or more")


def _rule(name: str) -> tuple[Callable[[Any], bool], str] | None:
    if name in _RULES:
        return _RULES[name]
    kind = {spec.name: str(spec.type) for spec in fields(Settings)}.get(name)
    if kind in ("bool", str(bool)):
        return (lambda value: True), "use true or false"
    return _AT_LEAST_ZERO if kind in ("int", "float", str(int), str(float)) else None


def _works(name: str) -> str:
    rule = _rule(name)
    return rule[1] if rule else "see the settings table in the README"


def check_setting(name: str, value: object, raw: str) -> None:
    """Raise ConfigError if a setting's value cannot be used (secrets are not echoed)."""
    rule = _rule(name)
    if rule is None or rule[0](value):
        return
    shown = f" ({len(raw)} characters)" if name in _SECRETS else f"={_shown(raw)}"
    raise ConfigError(f"{variable(name)}{shown} cannot be used: {rule[1]}.")


def _shown(raw: str, limit: int = 80) -> str:
    """A value as typed, unless line breaks or other control characters would split
    the sentence (then quoted with escapes); long ones cut."""
    text = raw if raw.isprintable() else repr(raw)
    return text if len(text) <= limit else text[: limit - 3] + "..."
