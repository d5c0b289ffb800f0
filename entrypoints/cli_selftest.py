"""``orchard selftest``: upload a tiny distribution to a running Orchard, install it with
pip, import it, and check each step; the Helm chart's ``helm test`` hooks run it, and an
operator can run it against any Orchard. Every option also reads an environment variable
(``ORCHARD_SELFTEST_*``), so a pod passes the password from a Secret, never on argv."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from packaging.version import InvalidVersion, Version

from entrypoints.selftest.checks import CHECKS, DEFAULT_CHECKS, Plan
from entrypoints.selftest.client import SelftestFailure, Server
from entrypoints.selftest.kube import ACCOUNT, PodRestarter, in_cluster_api


def _env(name: str) -> str:
    return f"ORCHARD_SELFTEST_{name}"


@click.command()
@click.option(
    "--url",
    envvar=_env("URL"),
    default="http://127.0.0.1:8080",
    show_default=True,
    help="Orchard's base URL.",
)
@click.option(
    "--project",
    envvar=_env("PROJECT"),
    default="pypi",
    show_default=True,
    help="Project whose index is checked.",
)
@click.option("--username", envvar=_env("USERNAME"), default="", help="User that uploads.")
@click.option(
    "--password",
    envvar=_env("PASSWORD"),
    default="",
    show_default=False,
    help="Password or API key (prefer the environment variable).",
)
@click.option(
    "--package",
    envvar=_env("PACKAGE"),
    default="helm-test-package",
    show_default=True,
    help="Name of the test distribution.",
)
@click.option(
    "--version",
    "version",
    envvar=_env("VERSION"),
    default="1.0.0",
    show_default=True,
    help="Version uploaded and installed.",
)
@click.option(
    "--versions",
    envvar=_env("VERSIONS"),
    default="1.0.0,1.0.1,2.0.0",
    show_default=True,
    help="Versions of the multiple-versions check.",
)
@click.option(
    "--check",
    "checks",
    multiple=True,
    type=click.Choice(list(CHECKS)),
    envvar=_env("CHECKS"),
    help="Check to run (repeat); default: all but persistence.",
)
@click.option(
    "--timeout",
    type=float,
    envvar=_env("TIMEOUT"),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the server or the pods.",
)
@click.option(
    "--verify-blob-store",
    is_flag=True,
    envvar=_env("VERIFY_BLOB_STORE"),
    help="Storage: also find the blob in the store the ORCHARD_* settings name.",
)
@click.option(
    "--pod-selector",
    envvar=_env("POD_SELECTOR"),
    default="",
    help="Persistence: label selector of the server's pods.",
)
@click.option(
    "--kube-api",
    envvar=_env("KUBE_API"),
    default="",
    help="Persistence: Kubernetes API URL (default: the cluster's own).",
)
@click.option(
    "--kube-token-file",
    type=click.Path(path_type=Path),
    envvar=_env("KUBE_TOKEN_FILE"),
    default=ACCOUNT / "token",
    help="Persistence: service-account token.",
)
@click.option(
    "--kube-ca-file",
    type=click.Path(path_type=Path),
    envvar=_env("KUBE_CA_FILE"),
    default=ACCOUNT / "ca.crt",
    help="Persistence: the API's CA certificate.",
)
@click.option(
    "--kube-namespace",
    envvar=_env("KUBE_NAMESPACE"),
    default="",
    help="Persistence: namespace of the pods (default: this pod's).",
)
def selftest(**options: Any) -> None:
    """Prove a running Orchard serves pip: upload, install, import.

    Each check fails with one sentence and exit status 1.
    """
    plan = _plan(options)
    wanted = set(options["checks"] or DEFAULT_CHECKS)
    try:
        for name, check in CHECKS.items():
            if name in wanted:
                _run(name, check, plan)
    finally:
        shutil.rmtree(plan.workdir, ignore_errors=True)


def _run(name: str, check: Callable[[Plan], str], plan: Plan) -> None:
    try:
        said = check(plan)
    except SelftestFailure as failure:
        click.echo(f"FAIL {name}: {plan.server.redact(str(failure))}", err=True)
        sys.exit(1)
    click.echo(f"ok   {name}: {plan.server.redact(said)}")


def _plan(options: dict[str, Any]) -> Plan:
    server = Server(
        url=str(options["url"]),
        project=str(options["project"]),
        username=str(options["username"]),
        password=str(options["password"]),
    )
    versions = tuple(v.strip() for v in str(options["versions"]).split(",") if v.strip())
    for given in (options["version"], *versions):
        _valid_version(given)
    restarter = None
    if "persistence" in (options["checks"] or ()):
        try:
            restarter = _restarter(options)
        except SelftestFailure as failure:
            click.echo(f"FAIL persistence: {failure}", err=True)
            sys.exit(1)
    return Plan(
        server=server,
        package=str(options["package"]),
        version=str(options["version"]),
        versions=versions,
        timeout=float(options["timeout"]),
        verify_blob_store=bool(options["verify_blob_store"]),
        restarter=restarter,
    )


def _valid_version(text: str) -> None:
    try:
        Version(text)
    except InvalidVersion:
        raise click.BadParameter(f"{text!r} is not a PEP 440 version.") from None


def _restarter(options: dict[str, Any]) -> PodRestarter:
    if not options["pod_selector"]:
        raise SelftestFailure("The persistence check needs --pod-selector.")
    return PodRestarter(
        api=str(options["kube_api"] or in_cluster_api()),
        selector=str(options["pod_selector"]),
        token_file=Path(options["kube_token_file"]),
        ca_file=Path(options["kube_ca_file"]),
        namespace=str(options["kube_namespace"]),
    )
