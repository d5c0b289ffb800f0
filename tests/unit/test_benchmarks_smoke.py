"""The benchmark code stays importable and its report renders (no server is started).

``make bench`` runs for many minutes against real servers; this only guards the parts
that can rot silently between runs: imports, the statistics and the report table.
"""

from __future__ import annotations

import importlib
import zipfile

import pytest

MODULES = [
    "benchmarks.ab",
    "benchmarks.backends",
    "benchmarks.dists",
    "benchmarks.load",
    "benchmarks.machine",
    "benchmarks.peers",
    "benchmarks.pypi_data",
    "benchmarks.record",
    "benchmarks.report",
    "benchmarks.rss",
    "benchmarks.run",
    "benchmarks.scenarios_generic",
    "benchmarks.scenarios_pypi",
    "benchmarks.servers",
    "benchmarks.stats",
    "benchmarks.targets",
    "benchmarks.transfer",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_benchmark_module_imports(name):
    importlib.import_module(name)


def _fixed_results():
    from benchmarks.record import Recorder
    from benchmarks.targets import EMBEDDED

    rec = Recorder(
        {"cores": 2, "ram_gib": 24.0, "cpu": "Test CPU", "kernel": "6.1", "python": "3.11.7"}
    )
    rec.data["date"] = "2026-01-01 00:00 UTC"
    rec.data["versions"] = {"Orchard": "0.1.0", "devpi": "6.0"}
    rec.data["limits"] = {
        "hash-and-write sink, one Python thread": 500.0,
        "sha256sum then cp+sync, together": 200.0,
    }
    rec.add("upload 1 GiB (curl -F)", EMBEDDED, "MB/s", [{"mb_s": 150.0}, {"mb_s": 170.0}], "mb_s")
    rec.add("download 1 GiB (curl)", EMBEDDED, "MB/s", [{"mb_s": 800.0}], "mb_s")
    rec.add("download 1 GiB (curl)", "nginx (static)", "MB/s", [{"mb_s": 1000.0}], "mb_s")
    rec.add("/simple/<project>/ 16 clients", EMBEDDED, "req/s", [{"rps": 900.0}], "rps")
    rec.add("/simple/<project>/ 16 clients", "devpi", "req/s", [{"rps": 100.0}], "rps")
    rec.compare(rec.row("/simple/<project>/ 16 clients", "devpi", "req/s"), 900.0, 100.0, "x")
    return rec


def test_the_report_renders_medians_ratios_and_targets():
    from benchmarks import report, targets

    rec = _fixed_results()
    targets.evaluate(rec)
    text = report.render(rec.data)

    assert "2 cores, 24.0 GiB RAM, Test CPU" in text
    assert "| upload 1 GiB (curl -F) | orchard sqlite+fs | MB/s | 160 | 2 | - |" in text
    assert "9.00x x" in text
    assert "| #6 | 1 GiB upload (curl) >= 150 MB/s | 160 MB/s | yes |" in text
    assert "| #6 | download >= 70% of nginx | 80% | yes |" in text
    assert (
        "| #6 | /simple/<project>/ 16 clients >= 3x devpi req/s | 9.0x (900 vs 100) | yes |" in text
    )


def test_statistics():
    from benchmarks.stats import median, percentile, ratio

    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) is None
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert ratio(1.0, 0.0) is None


def test_alternation_rotates_the_order_and_survives_a_failing_run():
    from benchmarks.record import alternate

    order = []

    def contender(name):
        def once(i):
            order.append(name)
            if name == "b" and i == 0:
                raise RuntimeError("boom")
            return {"v": i}

        return once

    runs = alternate({"a": contender("a"), "b": contender("b")}, 2)
    assert order == ["a", "b", "b", "a"]
    assert runs["b"][0] == {"error": "boom"}


def test_generated_wheels_carry_their_metadata(tmp_path):
    from benchmarks import dists

    path = dists.wheel(tmp_path, "dep-01", "1.0", requires=("dep-02",))

    assert path.name == "dep_01-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path) as archive:
        metadata = archive.read("dep_01-1.0.dist-info/METADATA").decode()
    assert "Name: dep-01" in metadata
    assert "Requires-Dist: dep-02" in metadata


def test_present_system_commands_need_no_install():
    from benchmarks import system_packages

    assert system_packages.ensure({"sh": "dash", "python3": "python3"}) == {}
