"""The Helm chart rendered offline by Helm's own engine (helm-python-sdk embeds it: no helm
binary, no cluster), as the chart's tests and the hook tests read it."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "orchard"
RELEASE, NAMESPACE = "orchard", "artifacts"
# The values files chart-testing would install: the defaults, then ci/*-values.yaml.
VALUES_FILES = ("default", *sorted(p.name.removesuffix("-values.yaml") for p in
                                   (CHART / "ci").glob("*-values.yaml")))  # fmt: skip


def values_of(name: str) -> dict:
    if name == "default":
        return {}
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text()) or {}


@cache
def _chart():
    import helm_python

    return helm_python.Chart.load(CHART)


def render(values: dict | None = None) -> dict[str, str]:
    """Template path → rendered text, as ``helm template`` (install) writes them."""
    return _chart().render(
        copy.deepcopy(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True
    )


def manifests(values: dict | None = None) -> list[dict]:
    """Every Kubernetes object the chart renders (NOTES.txt and empty documents left out)."""
    objects = []
    for path, text in sorted(render(values).items()):
        if path.endswith(".yaml"):
            objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return objects


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]


def hook_pods(objects: list[dict]) -> list[dict]:
    """The ``helm test`` pods, in the order Helm runs them (hook weight, then name)."""
    hooks = [
        o for o in objects if o["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"
    ]
    return sorted(
        hooks,
        key=lambda o: (
            int(o["metadata"]["annotations"]["helm.sh/hook-weight"]),
            o["metadata"]["name"],
        ),
    )


def pod_spec(obj: dict) -> dict:
    """The pod spec inside a Pod, a Job, a CronJob, a Deployment or a StatefulSet."""
    if obj["kind"] == "Pod":
        return obj["spec"]
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return obj["spec"]["template"]["spec"]


def server(objects: list[dict]) -> dict:
    (workload,) = find(objects, "StatefulSet") + find(objects, "Deployment")
    return workload
