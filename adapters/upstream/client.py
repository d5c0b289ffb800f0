"""The upstream client over httpx: bounded waits, conditional GETs, one log line per call.

httpx rather than urllib: separate connect and read timeouts, connection pooling across
requests, streaming bodies, and a short body reported as an error (h11 checks the
Content-Length), which a verified cache needs. Every httpx failure becomes
``UpstreamTimeout`` or ``UpstreamUnavailable`` here.

Credentials (settings, or user:password in the URL) go only to the upstream's own host,
and never into a log line: logs show the URL without its user information.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from adapters.upstream.pages import parse_page
from domain.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from domain.upstream import (
    PageFetch,
    UpstreamClient,
    UpstreamPage,
    UpstreamSettings,
    UpstreamStream,
)

log = logging.getLogger("orchard.upstream")

PAGE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
MAX_PAGE_BYTES = 64 * 1024 * 1024
# observe(kind, outcome, seconds): kind is "page", "file" or "metadata"; outcome a status
# code, or "timeout"/"error"
Observer = Callable[[str, str, float], None]


class HttpUpstreamClient(UpstreamClient):
    def __init__(
        self,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        observe: Observer | None = None,
    ) -> None:
        self._timeouts = (connect_timeout, read_timeout)
        self._observe = observe or (lambda kind, outcome, seconds: None)
        self._http: httpx.Client | None = None
        self._http_lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on the first upstream call.

        Every gunicorn worker builds this object, and most never call an upstream; an
        httpx client loads the CA bundle into an SSL context when it is made, ~9 MiB of
        each worker's private memory (docs/performance.md, "Memory")."""
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    connect, read = self._timeouts
                    self._http = httpx.Client(
                        timeout=httpx.Timeout(read, connect=connect, pool=connect),
                        follow_redirects=True,
                        max_redirects=5,
                        headers={"User-Agent": "orchard-upstream-cache"},
                    )
        return self._http

    def fetch_page(
        self,
        settings: UpstreamSettings,
        name: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> UpstreamPage | PageFetch:
        base, auth = split_credentials(settings)
        url = f"{base.rstrip('/')}/{quote(name)}/"
        headers = {"Accept": PAGE_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        with self._call("page", url) as outcome, self._send(url, headers, auth) as response:
            outcome.append(str(response.status_code))
            if response.status_code == 304:
                return PageFetch.NOT_MODIFIED
            if response.status_code in (404, 410):
                return PageFetch.MISSING
            _require_ok(response)
            body = _read_bounded(response, MAX_PAGE_BYTES, deadline=self._timeouts[1])
            files = parse_page(body, response.headers.get("content-type", ""), str(response.url))
            return UpstreamPage(
                name=name,
                files=files,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )

    def open_file(self, settings: UpstreamSettings, url: str) -> UpstreamStream:
        headers = {"Accept-Encoding": "identity"}  # the bytes the sha256 is of
        _, auth = split_credentials(settings)
        started = time.monotonic()
        try:
            request = self._client.build_request("GET", url, headers=headers)
            response = self._client.send(request, auth=_auth_for(url, settings, auth), stream=True)
        except httpx.HTTPError as error:
            self._log("file", url, _failure(error), started)
            raise _translated(error) from None
        self._log("file", url, str(response.status_code), started)
        if response.status_code in (404, 410):
            response.close()
            raise NotFound("The upstream no longer has this file.")
        try:
            _require_ok(response)
        except UpstreamUnavailable:
            response.close()
            raise
        return _HttpStream(response)

    def fetch_bytes(self, settings: UpstreamSettings, url: str, max_size: int) -> bytes:
        _, auth = split_credentials(settings)
        with self._call("metadata", url) as outcome:
            with self._send(url, {}, _auth_for(url, settings, auth)) as response:
                outcome.append(str(response.status_code))
                if response.status_code in (404, 410):
                    raise NotFound("The upstream has no metadata for this file.")
                _require_ok(response)
                return _read_bounded(response, max_size, deadline=self._timeouts[1])

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    @contextmanager
    def _send(
        self, url: str, headers: dict[str, str], auth: httpx.Auth | None
    ) -> Iterator[httpx.Response]:
        request = self._client.build_request("GET", url, headers=headers)
        response = self._client.send(request, auth=auth, stream=True)
        try:
            yield response
        finally:
            response.close()

    @contextmanager
    def _call(self, kind: str, url: str) -> Iterator[list[str]]:
        """Time one call, log it once and translate httpx's errors."""
        outcome: list[str] = []
        started = time.monotonic()
        try:
            yield outcome
        except httpx.HTTPError as error:
            outcome.append(_failure(error))
            raise _translated(error) from None
        except UpstreamUnavailable:
            outcome.append("error")
            raise
        finally:
            self._log(kind, url, outcome[-1] if outcome else "error", started)

    def _log(self, kind: str, url: str, outcome: str, started: float) -> None:
        seconds = time.monotonic() - started
        log.info("upstream %s GET %s -> %s in %.3fs", kind, redacted(url), outcome, seconds)
        self._observe(kind, outcome, seconds)


class _HttpStream(UpstreamStream):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        length = response.headers.get("content-length")
        self.size = int(length) if length and length.isdigit() else None

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_raw()
        except httpx.HTTPError as error:
            log.info("upstream file body from %s failed: %s", redacted(str(self._response.url)),
                     _failure(error))  # fmt: skip
            raise _translated(error) from None

    def close(self) -> None:
        self._response.close()


def split_credentials(settings: UpstreamSettings) -> tuple[str, httpx.Auth | None]:
    """The index URL without user information, and the credentials to send with it."""
    parts = urlsplit(settings.url)
    username, password = settings.username, settings.password
    if parts.username is not None:
        username = username or unquote(parts.username)
        password = password or unquote(parts.password or "")
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        parts = parts._replace(netloc=netloc)
    auth = httpx.BasicAuth(username, password or "") if username else None
    return urlunsplit(parts), auth


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


def _auth_for(url: str, settings: UpstreamSettings, auth: httpx.Auth | None) -> httpx.Auth | None:
    """Credentials go to the upstream's own host only, never to a file host it links to."""
    base, _ = split_credentials(settings)
    return auth if urlsplit(url).netloc == urlsplit(base).netloc else None


def _require_ok(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise UpstreamUnavailable(f"The upstream index answered {response.status_code}.")


def _read_bounded(response: httpx.Response, limit: int, *, deadline: float) -> bytes:
    """The whole body, at most ``limit`` bytes and within ``deadline`` seconds in all (a
    slow drip must not hold a request for ever)."""
    started, chunks, total = time.monotonic(), [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > limit:
            raise UpstreamUnavailable("The upstream sent a page larger than Orchard reads.")
        if time.monotonic() - started > deadline:
            raise UpstreamTimeout("The upstream index sent its page too slowly.")
        chunks.append(chunk)
    return b"".join(chunks)


def _failure(error: httpx.HTTPError) -> str:
    return "timeout" if isinstance(error, httpx.TimeoutException) else "error"


def _translated(error: httpx.HTTPError) -> UpstreamUnavailable:
    if isinstance(error, httpx.TimeoutException):
        return UpstreamTimeout("The upstream index did not answer in time.")
    return UpstreamUnavailable(f"The upstream index could not be reached ({type(error).__name__}).")
