"""The Helm chart, rendered and linted offline by Helm's own engine (helm-python-sdk), for
the default values and every ``ci/*-values.yaml``; each manifest checked against the
Kubernetes API schemas of pinned versions (kubernetes-validate) and by yamllint; the
rendered output kept as snapshots so that a template or engine change is seen.

No cluster, helm binary or image build here: what the hooks *do* is proven against live
servers in ``tests/integration/chart/test_helm_hooks.py``."""

from __future__ import annotations

import os
import re
from dataclasses import fields

import helm_python as helm
import pytest
import yaml

from entrypoints.config import Settings
from tests.helm_chart import (
    CHART,
    VALUES_FILES,
    find,
    hook_pods,
    manifests,
    pod_spec,
    render,
    server,
    values_of,
)

KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")  # the chart's kubeVersion floor, and the newest
SNAPSHOTS = CHART.parents[2] / "tests" / "unit" / "snapshots" / "helm"
SEED_PLAN = [  # seed 002's plan, in its order: the hook of each item
    "connection", "simple-index", "storage", "upload", "download", "multiple-versions",
    "concurrent", "persistence", "auth",
]  # fmt: skip
CREDENTIALS = {
    "ORCHARD_ADMIN_PASSWORD", "ORCHARD_SECRET_KEY", "ORCHARD_DATABASE_URL",
    "ORCHARD_S3_ACCESS_KEY", "ORCHARD_S3_SECRET_KEY", "ORCHARD_SELFTEST_PASSWORD",
}  # fmt: skip


def helm_template_output(values: dict) -> str:
    """The rendered chart as ``helm template`` prints it: one trimmed document per source."""
    out = []
    for path, text in sorted(render(values).items()):
        if not path.endswith(".yaml"):
            continue
        for doc in re.split(r"(?m)^---\s*$", text):
            if doc.strip():
                out.append(f"---\n# Source: {path}\n{doc.strip()}\n")
    return "".join(out)


def normalised(text: str) -> str:
    """The generated Secret's random values, which differ on every render, masked."""
    return re.sub(r"(?m)^(  (?:admin-password|secret-key): ).+$", r"\1<generated>", text)


def every_pod(objects: list[dict]) -> list[tuple[str, dict]]:
    kinds = ("Pod", "Job", "CronJob", "Deployment", "StatefulSet")
    return [(f"{o['kind']}/{o['metadata']['name']}", pod_spec(o)) for o in objects
            if o["kind"] in kinds]  # fmt: skip


def pod_labels(obj: dict) -> dict:
    if obj["kind"] == "CronJob":
        return obj["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
    return obj["spec"].get("template", obj)["metadata"].get("labels", {})


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.fixture(scope="module", params=VALUES_FILES)
def values_name(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def objects(values_name: str) -> list[dict]:
    return manifests(values_of(values_name))


class TestRendering:
    def test_the_output_matches_its_snapshot(self, values_name):
        rendered = normalised(helm_template_output(values_of(values_name)))
        snapshot = SNAPSHOTS / f"{values_name}.yaml"
        if os.environ.get("ORCHARD_UPDATE_SNAPSHOTS"):
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            snapshot.write_text(rendered)
        assert snapshot.exists(), "run with ORCHARD_UPDATE_SNAPSHOTS=1 to write it"
        assert rendered == snapshot.read_text(), f"{snapshot.name} differs: review, then update"

    def test_lint_strict_finds_nothing(self, values_name):
        for version in KUBERNETES_VERSIONS:
            report = helm.lint(
                CHART, values_of(values_name), strict=True, kube_version=f"v{version}"
            )
            problems = [m for m in report["messages"] if m["severity"] >= 2]
            assert report["errors"] == [] and problems == [], report

    @pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
    def test_every_manifest_is_valid_for_the_kubernetes_api(self, objects, version):
        from kubernetes_validate import utils as kubernetes

        for obj in objects:
            if obj["apiVersion"] == "monitoring.coreos.com/v1":
                continue  # a CRD: checked by test_the_service_monitor_scrapes_metrics
            kubernetes.validate(obj, version, strict=True)

    def test_yamllint_passes_every_manifest_and_values_file(self, values_name):
        from yamllint import linter
        from yamllint.config import YamlLintConfig

        config = YamlLintConfig(file=str(CHART.parent / "yamllint.yaml"))
        sources = {"rendered": helm_template_output(values_of(values_name))}
        path = CHART / ("values.yaml" if values_name == "default" else
                        f"ci/{values_name}-values.yaml")  # fmt: skip
        sources[path.name] = path.read_text()
        for name, text in sources.items():
            problems = [f"{name}:{p.line}: {p.message}" for p in linter.run(text, config)]
            assert problems == []


class TestShapes:
    def test_the_default_is_one_statefulset_pod_with_a_volume_claim(self):
        objects = manifests()
        workload = server(objects)
        assert workload["kind"] == "StatefulSet" and workload["spec"]["replicas"] == 1
        (claim,) = workload["spec"]["volumeClaimTemplates"]
        mounts = workload["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
        assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in mounts
        env = env_of(workload["spec"]["template"]["spec"]["containers"][0])
        assert "ORCHARD_DATABASE_URL" not in env  # SQLite under /data
        assert env["ORCHARD_BLOB_STORE"]["value"] == "filesystem"
        assert not find(objects, "Job")  # SQLite: the pod migrates at start

    def test_scale_out_is_a_deployment_on_postgresql_and_s3(self):
        values = values_of("scale-out")
        objects = manifests(values)
        workload = server(objects)
        assert workload["kind"] == "Deployment"
        assert workload["spec"]["replicas"] == values["replicaCount"] > 1
        env = env_of(workload["spec"]["template"]["spec"]["containers"][0])
        assert (
            env["ORCHARD_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"]
            == (values["database"]["existingSecret"])
        )
        assert env["ORCHARD_BLOB_STORE"]["value"] == "s3"
        assert env["ORCHARD_S3_BUCKET"]["value"] == values["blobStore"]["s3"]["bucket"]
        secret_key = env["ORCHARD_SECRET_KEY"]["valueFrom"]["secretKeyRef"]
        assert secret_key["name"] == values["auth"]["existingSecret"]  # one key for all pods
        assert not find(objects, "Secret")  # every credential is a Secret of yours

    def test_the_s3_blob_cache_is_an_empty_dir_of_the_server_pods_only(self):
        values = values_of("scale-out")
        objects = manifests(values)
        spec = pod_spec(server(objects))
        env = env_of(spec["containers"][0])
        assert env["ORCHARD_BLOB_CACHE_DIR"]["value"] == "/cache"
        assert env["ORCHARD_BLOB_CACHE_SIZE"]["value"] == values["blobStore"]["cache"]["size"]
        assert env["ORCHARD_BLOB_CACHE_MAX_BLOB"]["value"] == "2G"
        mounts = spec["containers"][0]["volumeMounts"]
        assert {"name": "blob-cache", "mountPath": "/cache"} in mounts
        (volume,) = [v for v in spec["volumes"] if v["name"] == "blob-cache"]
        assert volume["emptyDir"] == {"sizeLimit": values["blobStore"]["cache"]["sizeLimit"]}
        for name, other in every_pod(objects):  # jobs read S3 itself (fsck, gc), hooks too
            if not name.startswith("Deployment/"):
                assert "ORCHARD_BLOB_CACHE_DIR" not in env_of(other["containers"][0]), name

    def test_no_blob_cache_unless_enabled(self):
        values = values_of("scale-out")
        values["blobStore"]["cache"]["enabled"] = False
        spec = pod_spec(server(manifests(values)))
        assert "ORCHARD_BLOB_CACHE_DIR" not in env_of(spec["containers"][0])
        assert "blob-cache" not in [v["name"] for v in spec["volumes"]]

    def test_migrations_run_before_install_and_upgrade_on_postgresql(self):
        (job,) = find(manifests(values_of("scale-out")), "Job")
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert pod_spec(job)["containers"][0]["args"] == ["db", "upgrade"]

    def test_gc_runs_on_a_schedule_and_fsck_when_asked(self):
        cronjobs = {
            c["metadata"]["name"]: c for c in find(manifests(values_of("scale-out")), "CronJob")
        }
        args = {name: pod_spec(c)["containers"][0]["args"] for name, c in cronjobs.items()}
        assert args == {
            "orchard-gc": ["gc", "--apply", "--json"],
            "orchard-fsck": ["fsck", "--json"],
        }

    def test_embedded_jobs_mount_the_servers_claim_on_its_node(self):
        (cronjob,) = find(manifests(), "CronJob")
        spec = pod_spec(cronjob)
        claims = [v["persistentVolumeClaim"]["claimName"] for v in spec["volumes"]
                  if "persistentVolumeClaim" in v]  # fmt: skip
        assert claims == ["data-orchard-0"]  # the StatefulSet's claim of pod 0
        affinity = spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert affinity[0]["topologyKey"] == "kubernetes.io/hostname"


class TestServerPod:
    def test_probes_are_health_for_liveness_and_ready_for_readiness(self, objects):
        container = pod_spec(server(objects))["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["startupProbe"]["httpGet"]["path"] == "/health"

    def test_the_grace_period_outlasts_the_drain(self, objects):
        spec = pod_spec(server(objects))
        env = env_of(spec["containers"][0])
        drain = int(env["ORCHARD_GRACEFUL_TIMEOUT"]["value"])
        pause = int(spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
        assert spec["terminationGracePeriodSeconds"] > drain + pause

    def test_the_service_selects_the_server_pods_on_their_port(self, objects):
        service = find(objects, "Service", "orchard")[0]
        template = server(objects)["spec"]["template"]
        assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
        ports = {p["name"] for p in template["spec"]["containers"][0]["ports"]}
        assert service["spec"]["ports"][0]["targetPort"] in ports

    def test_every_orchard_variable_is_a_setting_or_a_selftest_option(self, objects):
        from entrypoints.cli_selftest import selftest

        settings = {f"ORCHARD_{f.name.upper()}" for f in fields(Settings)}
        options = {p.envvar for p in selftest.params if p.envvar}
        for where, spec in every_pod(objects):
            for container in spec["containers"]:
                names = {n for n in env_of(container) if n.startswith("ORCHARD_")}
                assert names - settings - options == set(), where


class TestSecurity:
    def test_every_pod_runs_restricted(self, objects):
        for where, spec in every_pod(objects):
            pod = spec["securityContext"]
            assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, where
            assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for container in spec["containers"]:
                context = container["securityContext"]
                assert context["allowPrivilegeEscalation"] is False, where
                assert context["readOnlyRootFilesystem"] is True, where
                assert context["capabilities"] == {"drop": ["ALL"]}, where
                assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], where
            assert {"name": "tmp", "emptyDir": {}} in spec["volumes"], where

    def test_no_credential_is_a_plain_value_in_any_pod(self, objects):
        for where, spec in every_pod(objects):
            for container in spec["containers"]:
                for name, var in env_of(container).items():
                    if name in CREDENTIALS:
                        assert "secretKeyRef" in var.get("valueFrom", {}), (where, name)

    def test_only_the_persistence_test_gets_a_kubernetes_token(self, objects):
        for where, spec in every_pod(objects):
            wanted = where == "Pod/orchard-test-persistence"
            assert spec.get("automountServiceAccountToken") is wanted, where


class TestValuesSchema:
    @pytest.mark.parametrize(
        ("values", "refusal"),
        [
            ({"replicaCount": 2}, "/replicaCount"),
            ({"replicaCount": 2, "database": {"type": "postgresql", "existingSecret": "db"},
              "auth": {"existingSecret": "auth"}}, "/replicaCount"),  # still filesystem blobs
            ({"database": {"type": "postgresql", "existingSecret": "db",
                           "url": "postgresql+psycopg://orchard:hunter2@db/orchard"},
              "auth": {"existingSecret": "auth"}}, "'url' not allowed"),
            ({"auth": {"adminPassword": "hunter2"}}, "'adminPassword' not allowed"),
            ({"blobStore": {"type": "s3", "s3": {"bucket": "b", "secretKey": "hunter2"}}},
             "'secretKey' not allowed"),
            ({"server": {"extraEnv": {"ORCHARD_S3_SECRET_KEY": "hunter2"}}},
             "ORCHARD_S3_SECRET_KEY"),
            ({"database": {"type": "postgresql", "existingSecret": "db"}}, "/auth"),
            ({"blobStore": {"type": "s3"}}, "bucket"),
            ({"blobStore": {"type": "filesystem", "cache": {"enabled": True}}}, "false"),
        ],
        ids=["two-replicas-on-sqlite", "two-replicas-on-filesystem", "database-url-in-values",
             "admin-password-in-values", "s3-secret-in-values", "credential-in-extra-env",
             "postgresql-without-auth-secret", "s3-without-bucket", "cache-on-filesystem"],
    )  # fmt: skip
    def test_refuses(self, values, refusal):
        with pytest.raises(helm.HelmError) as refused:
            render(values)
        assert refusal in str(refused.value)
        report = helm.lint(CHART, values, strict=True)
        assert report["errors"], report

    def test_accepts_three_replicas_on_postgresql_and_s3(self):
        assert server(manifests(values_of("scale-out")))["spec"]["replicas"] == 3

    def test_accepts_settings_the_chart_leaves_alone_in_extra_env(self):
        extra = {"ORCHARD_S3_TIMEOUT": "30", "ORCHARD_GC_GRACE": "7200"}
        env = env_of(pod_spec(server(manifests({"server": {"extraEnv": extra}})))["containers"][0])
        assert {name: env[name]["value"] for name in extra} == extra


class TestHooks:
    def test_one_hook_per_item_of_the_seed_plan_in_its_order(self, objects):
        hooks = hook_pods(objects)
        checks = [h["spec"]["containers"][0]["args"][1] for h in hooks]
        assert checks == SEED_PLAN

    def test_each_hook_runs_orchard_selftest_in_the_orchard_image(self, objects):
        image = pod_spec(server(objects))["containers"][0]["image"]
        for hook in hook_pods(objects):
            (container,) = hook["spec"]["containers"]
            assert container["image"] == image
            assert container["command"] == ["orchard", "selftest"]
            assert container["args"][0] == "--check"
            assert hook["spec"]["restartPolicy"] == "Never"
            policy = hook["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
            assert policy == "before-hook-creation,hook-succeeded"

    def test_hooks_reach_the_release_service(self, objects):
        service = find(objects, "Service", "orchard")[0]
        url = f"http://orchard.artifacts.svc:{service['spec']['ports'][0]['port']}"
        for hook in hook_pods(objects):
            env = env_of(hook["spec"]["containers"][0])
            assert env["ORCHARD_SELFTEST_URL"]["value"] == url

    def test_the_persistence_hook_selects_exactly_the_server_pods(self, objects):
        (hook,) = [
            h for h in hook_pods(objects) if "persistence" in h["spec"]["containers"][0]["args"]
        ]
        args = hook["spec"]["containers"][0]["args"]
        selector = dict(p.split("=") for p in args[args.index("--pod-selector") + 1].split(","))
        labels = server(objects)["spec"]["template"]["metadata"]["labels"]
        assert (
            selector.items() <= labels.items()
            and selector["app.kubernetes.io/component"] == "server"
        )
        for other in ("CronJob", "Job", "Pod"):  # jobs and hooks are never deleted by it
            for obj in find(objects, other):
                theirs = pod_labels(obj)
                assert not selector.items() <= theirs.items(), obj["metadata"]["name"]

    def test_the_persistence_hook_may_list_and_delete_pods_and_nothing_else(self, objects):
        (role,) = find(objects, "Role", "orchard-test")
        assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"],
                                  "verbs": ["get", "list", "delete"]}]  # fmt: skip
        (binding,) = find(objects, "RoleBinding", "orchard-test")
        hook = find(objects, "Pod", "orchard-test-persistence")[0]
        assert binding["subjects"][0]["name"] == hook["spec"]["serviceAccountName"]

    def test_without_the_persistence_hook_no_pod_may_delete_pods(self):
        objects = manifests({"tests": {"persistence": False}})
        checks = [h["spec"]["containers"][0]["args"][1] for h in hook_pods(objects)]
        assert checks == [c for c in SEED_PLAN if c != "persistence"]
        assert not find(objects, "Role") and not find(objects, "RoleBinding")

    def test_the_storage_hook_checks_the_bucket_itself_on_s3(self):
        hook = find(manifests(values_of("scale-out")), "Pod", "orchard-test-storage")[0]
        env = env_of(hook["spec"]["containers"][0])
        assert env["ORCHARD_SELFTEST_VERIFY_BLOB_STORE"]["value"] == "1"
        assert env["ORCHARD_BLOB_STORE"]["value"] == "s3"
        assert "secretKeyRef" in env["ORCHARD_S3_SECRET_KEY"]["valueFrom"]


class TestOptionalObjects:
    def test_the_ingress_lets_large_slow_uploads_through(self):
        values = values_of("ingress")
        (ingress,) = find(manifests(values), "Ingress")
        annotations = ingress["metadata"]["annotations"]
        prefix = "nginx.ingress.kubernetes.io/"
        assert annotations[f"{prefix}proxy-body-size"] == values["server"]["maxUploadSize"].lower()
        assert annotations[f"{prefix}proxy-request-buffering"] == "off"
        assert annotations[f"{prefix}proxy-read-timeout"] == str(values["server"]["timeout"])
        assert ingress["spec"]["tls"][0]["hosts"] == [values["ingress"]["host"]]

    def test_an_upload_size_in_bytes_is_the_ingress_body_size_too(self):
        values = {"ingress": {"enabled": True}, "server": {"maxUploadSize": 1073741824}}
        (ingress,) = find(manifests(values), "Ingress")
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "1073741824"
        env = env_of(pod_spec(server(manifests(values)))["containers"][0])
        assert env["ORCHARD_MAX_UPLOAD_SIZE"]["value"] == "1073741824"

    def test_the_service_monitor_scrapes_metrics_of_the_main_service_only(self):
        objects = manifests(values_of("monitoring"))
        (monitor,) = find(objects, "ServiceMonitor")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
        selected = [s for s in find(objects, "Service")
                    if monitor["spec"]["selector"]["matchLabels"].items()
                    <= s["metadata"]["labels"].items()]  # fmt: skip
        assert [s["metadata"]["name"] for s in selected] == ["orchard"]

    def test_the_disruption_budget_and_network_policy_cover_the_server_pods(self):
        objects = manifests(values_of("scale-out"))
        labels = server(objects)["spec"]["template"]["metadata"]["labels"]
        (budget,) = find(objects, "PodDisruptionBudget")
        (policy,) = find(objects, "NetworkPolicy")
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        peers = policy["spec"]["ingress"][0]["from"]
        assert {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "orchard"}}} in peers

    def test_none_of_them_by_default(self):
        kinds = {o["kind"] for o in manifests()}
        assert kinds.isdisjoint(
            {"Ingress", "ServiceMonitor", "PodDisruptionBudget", "NetworkPolicy"}
        )


def test_the_readme_documents_every_value():
    documented = set(re.findall(r"^\| `([A-Za-z0-9_.]+)`", (CHART / "README.md").read_text(), re.M))

    def leaves(node: dict, prefix: str = "") -> set[str]:
        keys = set()
        for key, value in node.items():
            path = f"{prefix}{key}"
            keys |= leaves(value, f"{path}.") if isinstance(value, dict) and value else {path}
        return keys

    assert leaves(yaml.safe_load((CHART / "values.yaml").read_text())) - documented == set()
