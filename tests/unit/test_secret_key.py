"""The generated secret key: made once per data directory, the same for every process."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor

from entrypoints.bootstrap import secret_key
from entrypoints.config import Settings


def test_an_explicit_key_wins(tmp_path) -> None:
    settings = Settings(data_dir=str(tmp_path), secret_key="explicit")
    assert secret_key(settings) == b"explicit"
    assert not (tmp_path / "secret_key").exists()


def test_a_generated_key_is_kept_private_and_reused(tmp_path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"))
    first = secret_key(settings)
    assert len(first) == 64
    assert secret_key(settings) == first
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temp files left


def test_processes_generating_at_once_agree_on_one_key(tmp_path) -> None:
    settings = Settings(data_dir=str(tmp_path))
    barrier = threading.Barrier(8)

    def generate(_: int) -> bytes:
        barrier.wait()
        return secret_key(settings)

    for _round in range(20):
        (tmp_path / "secret_key").unlink(missing_ok=True)
        with ThreadPoolExecutor(8) as pool:
            keys = set(pool.map(generate, range(8)))
        assert keys == {(tmp_path / "secret_key").read_bytes()}
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
