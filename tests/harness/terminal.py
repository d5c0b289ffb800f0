"""Run a command on a pseudo-terminal, as a person at a console would: its standard
input, output and error are a terminal, and an answer can be typed at its prompt."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios

ROWS, COLUMNS = 40, 120  # a new pseudo-terminal is 0 x 0 until someone says otherwise


def run_on_terminal(
    argv: list[str], env: dict[str, str], *, prompt: bytes | None = None, answer: str = ""
) -> tuple[int, str]:
    """Exit status and everything printed; ``answer`` is typed once ``prompt`` shows."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    process = subprocess.Popen(argv, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    try:
        if prompt is not None:
            while prompt not in output:
                output += _read(leader, timeout=60, what=output)
            os.write(leader, answer.encode() + b"\n")
        while True:  # until the terminal closes with the process
            chunk = _read(leader, timeout=300, what=output)
            if not chunk:
                break
            output += chunk
        status = process.wait(60)
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
    return status, output.decode(errors="replace")


def _read(fd: int, *, timeout: float, what: bytes) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    assert ready, f"the command went silent: {what[-2000:]!r}"
    try:
        return os.read(fd, 4096)
    except OSError:  # EIO: the other end closed
        return b""
