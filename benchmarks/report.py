"""The results as ``RESULTS.md`` (markdown tables) and ``results.json``.

Rendering is a pure function of the results dictionary, so the unit smoke test can check
it on a fixed input without starting a server.
"""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(cell) for cell in row) + " |" for row in rows]
    return lines


def render(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# Orchard benchmark results",
        "",
        f"Date: {results['date']}. Machine: {machine['cores']} cores, {machine['ram_gib']} GiB "
        f"RAM, {machine['cpu']}, Linux {machine['kernel']}, Python {machine['python']}. "
        f"Load average during the run: {_fmt(results.get('load_min'))}-"
        f"{_fmt(results.get('load_max'))} (a shared machine: medians of alternated runs).",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".",
        "",
        "## Machine limits",
        "",
        *_table(["measure", "MB/s"], [[k, v] for k, v in results["limits"].items()]),
        "",
        "## Scenarios (median of the runs; servers run in alternation)",
        "",
        *_table(
            ["scenario", "server", "metric", "median", "runs", "vs"],
            [
                [r["scenario"], r["server"], r["metric"], r["median"], r["runs"], r.get("vs")]
                for r in results["rows"]
            ],
        ),
        "",
        "## Targets",
        "",
        *_table(
            ["issue", "target", "measured", "met"],
            [[t["issue"], t["target"], t["measured"], t["met"]] for t in results["targets"]],
        ),
    ]
    if results.get("skipped"):
        lines += ["", "## Skipped", ""] + [f"- {reason}" for reason in results["skipped"]]
    return "\n".join(lines) + "\n"


def write(results: dict, directory: Path) -> str:
    text = render(results)
    (directory / "RESULTS.md").write_text(text)
    (directory / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return text
