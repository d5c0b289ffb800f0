"""What one run of ``orchard selftest`` checks, against which server."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from entrypoints.selftest import distribution
from entrypoints.selftest.client import Server
from entrypoints.selftest.distribution import Distribution
from entrypoints.selftest.kube import PodRestarter


@dataclass
class Plan:
    """What to check against which server (the command line's options, parsed)."""

    server: Server
    package: str = "helm-test-package"
    version: str = "1.0.0"
    versions: tuple[str, ...] = ("1.0.0", "1.0.1", "2.0.0")
    timeout: float = 60.0
    verify_blob_store: bool = False
    restarter: PodRestarter | None = None
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="selftest-")))

    def dist(self, version: str | None = None) -> Distribution:
        return distribution.build(self.package, version or self.version)

    def fresh_dir(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
