"""The steps the checks share: upload a release, find it on the index, fetch its files
and compare them with the bytes built here, install it with pip and import it."""

from __future__ import annotations

import hashlib
import time

from entrypoints.selftest.client import SelftestFailure, Server
from entrypoints.selftest.distribution import Distribution
from entrypoints.selftest.index_page import Link, links
from entrypoints.selftest.install import imported_version, pip_install
from entrypoints.selftest.plan import Plan

HTML = {"Accept": "text/html"}


def upload(server: Server, dist: Distribution) -> None:
    for file in dist.files:
        reply = server.upload(dist, file)
        if reply.status != 200:
            raise SelftestFailure(
                f"The server refused the upload of {file.filename} with {reply.status} "
                f"{reply.reason}: {reply.detail}."
            )


def listed(server: Server, dist: Distribution) -> None:
    """The project is on the index's root page and its page lists both files' hashes."""
    root = server.request("GET", server.index_url, headers=HTML)
    if root.status != 200 or dist.module.replace("_", "-") not in {
        link.text for link in links(server.index_url, root.body.decode(errors="replace"))
    }:
        raise SelftestFailure(f"{server.index_url} does not list {dist.name}.")
    found = page_links(server, dist)
    for file in dist.files:
        if file.filename not in found:
            raise SelftestFailure(f"The index page of {dist.name} does not list {file.filename}.")
        if found[file.filename].sha256 != file.sha256:
            raise SelftestFailure(
                f"The index lists {file.filename} with sha256 {found[file.filename].sha256}, "
                f"not the uploaded file's {file.sha256}."
            )


def page_links(server: Server, dist: Distribution) -> dict[str, Link]:
    url = f"{server.index_url}{dist.module.replace('_', '-')}/"
    reply = server.request("GET", url, headers=HTML)
    if reply.status == 404:
        raise SelftestFailure(
            f"{dist.name} is not in the index ({url} answered 404): run the upload check first."
        )
    if reply.status != 200:
        raise SelftestFailure(f"{url} answered {reply.status}: {reply.detail}.")
    return {link.text: link for link in links(url, reply.body.decode(errors="replace"))}


def served_intact(server: Server, dist: Distribution) -> None:
    """Each file's bytes, as served, are the bytes built (and uploaded) here."""
    found = page_links(server, dist)
    for file in dist.files:
        if file.filename not in found:
            raise SelftestFailure(
                f"{dist.name} {dist.version} is not in the index ({file.filename} is not "
                "listed): run the upload check first."
            )
        reply = server.request("GET", found[file.filename].url)
        digest = hashlib.sha256(reply.body).hexdigest()
        if reply.status != 200:
            raise SelftestFailure(f"Downloading {file.filename} answered {reply.status}.")
        if digest != file.sha256:
            raise SelftestFailure(
                f"The server served wrong bytes for {file.filename}: sha256 {digest}, "
                f"expected {file.sha256}."
            )


def install_and_import(plan: Plan, requirement: str, module: str) -> str:
    target = plan.fresh_dir("install") / "site"
    pip_install(plan.server, target, requirement)
    return imported_version(target, module)


def wait_ready(plan: Plan) -> None:
    deadline = time.monotonic() + plan.timeout
    while True:
        try:
            if plan.server.request("GET", "/ready").status == 200:
                return
        except SelftestFailure:
            pass
        if time.monotonic() >= deadline:
            raise SelftestFailure(f"Orchard was not ready {plan.timeout:g} s after the restart.")
        time.sleep(1)
