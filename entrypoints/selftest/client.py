"""The HTTP side of the selftest: one urllib3 pool, Basic credentials that are sent but
never shown, and the few requests the checks make."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

import urllib3

from entrypoints.selftest.distribution import Distribution, DistributionFile

TIMEOUT = urllib3.Timeout(connect=10, read=120)
Field = tuple[str, str | tuple[str, bytes, str]]  # a form field, or (filename, bytes, type)


class SelftestFailure(Exception):
    """A check failed; the message is the one sentence the operator reads."""


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError:
            return {}

    @property
    def detail(self) -> str:
        """What the server said was wrong: ``detail`` of a JSON error, else the reason."""
        found = self.json().get("detail") if self.body[:1] == b"{" else None
        return str(found or self.reason or "no reason given").strip().rstrip(".")


@dataclass
class Server:
    """An Orchard at ``url`` serving the index of ``project``, used as ``username``."""

    url: str
    project: str = "pypi"
    username: str = ""
    password: str = field(default="", repr=False)
    pool: urllib3.PoolManager = field(
        default_factory=lambda: urllib3.PoolManager(timeout=TIMEOUT, retries=False), repr=False
    )

    def __post_init__(self) -> None:
        self.url = self.url.rstrip("/")

    @property
    def index_url(self) -> str:
        """The project's index (the default project's is also served at the root)."""
        return f"{self.url}/pypi/{self.project}/simple/"

    @property
    def upload_url(self) -> str:
        return f"{self.url}/pypi/{self.project}/legacy/"

    def index_url_with_credentials(self) -> str:
        """For pip: credentials in the URL, as pip takes them (pip masks them in its logs)."""
        if not self.username:
            return self.index_url
        parts = urlsplit(self.index_url)
        user = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{user}@{parts.netloc}"))

    def redact(self, text: str) -> str:
        """``text`` without the password, in clear or URL-quoted, before anyone sees it."""
        for secret in {self.password, quote(self.password, safe="")} - {""}:
            text = text.replace(secret, "****")
        return text

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: tuple[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
        json: object = None,
    ) -> Reply:
        """One request; ``auth`` overrides the server's credentials (``("", "")``: none)."""
        username, password = auth if auth is not None else (self.username, self.password)
        headers = dict(headers or {})
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        target = url if "://" in url else f"{self.url}{url}"
        try:
            response = self.pool.request(method, target, headers=headers, body=body, json=json)
        except urllib3.exceptions.HTTPError as error:
            raise SelftestFailure(f"{method} {target} got no answer: {_cause(error)}.") from None
        return Reply(response.status, response.reason or "", dict(response.headers), response.data)

    def post_form(
        self, url: str, fields: list[Field], headers: dict[str, str] | None = None
    ) -> Reply:
        """A multipart/form-data POST."""
        body, content_type = urllib3.encode_multipart_formdata(fields)
        headers = {**(headers or {}), "Content-Type": content_type}
        return self.request("POST", url, body=body, headers=headers)

    def upload(
        self, dist: Distribution, file: DistributionFile, auth: tuple[str, str] | None = None
    ) -> Reply:
        """The legacy upload API, with the fields twine sends (metadata before the file)."""
        fields: list[Field] = [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("metadata_version", "2.1"),
            ("name", dist.name),
            ("version", dist.version),
            ("filetype", file.filetype),
            ("pyversion", file.pyversion),
            ("requires_python", ">=3.8"),
            ("sha256_digest", file.sha256),
            ("content", (file.filename, file.content, "application/octet-stream")),
        ]
        body, content_type = urllib3.encode_multipart_formdata(fields)
        headers = {"Content-Type": content_type}
        return self.request("POST", self.upload_url, body=body, headers=headers, auth=auth)


def _cause(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    return str(reason).rstrip(".")
