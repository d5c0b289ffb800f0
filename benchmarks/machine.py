"""The machine, and the limits no server on it can beat.

- ``hashlib`` SHA-256 over 1 MiB chunks (what every upload costs at least);
- writing to the work disk with an fsync at the end (what a durable upload costs);
- copying bytes over a loopback TCP socket (what any HTTP transfer costs);
- a one-thread Python "hash-and-write sink": accept a TCP connection, read 1 MiB at a
  time, SHA-256 it, write it to a file, fsync. The simplest correct upload server.
- the same sink updating the four digests Orchard records for every artifact (SHA-256,
  MD5, SHA-1, BLAKE2b-256) on each chunk: the simplest server doing Orchard's work.
- ``sha256sum`` and ``cp`` of the same file on the same disk (issue #2's yardstick).
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.stats import mb_per_s

CHUNK = 1024 * 1024

SINK = "hash-and-write sink, one Python thread"
FOUR_DIGEST_SINK = "hash-and-write sink, four digests, one Python thread"
SHA256_ONLY = (hashlib.sha256,)
# What Orchard records for every artifact (adapters/hashing.py), made the same way.
FOUR_DIGESTS = (
    hashlib.sha256,
    lambda: hashlib.md5(usedforsecurity=False),
    lambda: hashlib.sha1(usedforsecurity=False),
    lambda: hashlib.blake2b(digest_size=32),
)


def describe() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cores": os.cpu_count(),
        "ram_gib": round(ram, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def sha256_rate(size: int) -> float:
    block = os.urandom(CHUNK)
    digest = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(size // CHUNK):
        digest.update(block)
    return mb_per_s(size, time.perf_counter() - start)


def disk_write_rate(directory: Path, size: int) -> float:
    block = os.urandom(CHUNK)
    path = directory / "disk-probe.bin"
    start = time.perf_counter()
    with open(path, "wb") as out:
        for _ in range(size // CHUNK):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    elapsed = time.perf_counter() - start
    path.unlink()
    return mb_per_s(size, elapsed)


def _serve_once(listener: socket.socket, handle) -> threading.Thread:
    def accept() -> None:
        conn, _ = listener.accept()
        with conn:
            handle(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    return thread


def _send_file(port: int, path: Path) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as source:
        sock.sendfile(source)


def loopback_rate(source: Path) -> float:
    """Bytes of ``source`` sent with sendfile and received into one reused buffer."""
    buffer = bytearray(CHUNK)

    def drain(conn: socket.socket) -> None:
        while conn.recv_into(buffer):
            pass

    return _time_transfer(source, drain)


def sink_rate(source: Path, directory: Path, digests=SHA256_ONLY) -> float:
    """The one-thread hash-and-write sink: recv, update each of ``digests`` (constructors,
    SHA-256 alone by default; ``FOUR_DIGESTS`` for Orchard's work), write, fsync."""
    target = directory / "sink.bin"

    def sink(conn: socket.socket) -> None:
        hashes = [make() for make in digests]
        with open(target, "wb") as out:
            while data := conn.recv(CHUNK):
                for digest in hashes:
                    digest.update(data)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())

    try:
        return _time_transfer(source, sink)
    finally:
        target.unlink(missing_ok=True)


def _time_transfer(source: Path, handle) -> float:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        start = time.perf_counter()
        thread = _serve_once(listener, handle)
        _send_file(port, source)
        thread.join()
        elapsed = time.perf_counter() - start
    return mb_per_s(source.stat().st_size, elapsed)


def sha256sum_rate(source: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["sha256sum", str(source)], check=True, capture_output=True)
    return mb_per_s(source.stat().st_size, time.perf_counter() - start)


def cp_rate(source: Path, directory: Path) -> float:
    """``cp`` then ``sync``: a copy that is on disk when it ends, as an upload must be."""
    target = directory / "cp-copy.bin"
    start = time.perf_counter()
    subprocess.run(["cp", str(source), str(target)], check=True)
    subprocess.run(["sync", str(target)], check=True)
    elapsed = time.perf_counter() - start
    target.unlink()
    return mb_per_s(source.stat().st_size, elapsed)
