"""The upstream cache's repository: settings, merged names, cached pages and files, and
fetch claims, on the fake, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta

from domain.ports import UnitOfWork
from domain.upstream import UpstreamFile, UpstreamPage, UpstreamSettings
from tests.integration.metadata_contract.support import T0, artifact, seed


def _file(n: int, *, yanked: bool = False, sha: int | None = None) -> UpstreamFile:
    return UpstreamFile(
        filename=f"demo-{n}.0.tar.gz", url=f"https://files.example/demo-{n}.0.tar.gz",
        sha256=f"{sha or n:064x}", size=n * 10, upload_time=T0, requires_python=">=3.8",
        yanked=yanked, yanked_reason="bad" if yanked else None, metadata_sha256=None,
    )  # fmt: skip


def _project_id(uow: UnitOfWork) -> int:
    return seed(uow).project_id


def test_settings_and_merged_names(uow: UnitOfWork) -> None:
    project_id = _project_id(uow)
    settings = UpstreamSettings(url="https://u/simple/", ttl=5, cooldown=60, username="bot",
                                password="pw")  # fmt: skip
    with uow:
        assert uow.upstream.settings(project_id) is None
        uow.upstream.set_settings(project_id, settings)
        uow.upstream.set_merge(project_id, "zeta", True)
        uow.upstream.set_merge(project_id, "alpha", True)
        uow.upstream.set_merge(project_id, "alpha", True)  # twice: once
        uow.commit()
    with uow:
        assert uow.upstream.settings(project_id) == settings
        assert uow.upstream.merge_names(project_id) == ["alpha", "zeta"]
        uow.upstream.set_settings(project_id, None)
        uow.upstream.set_merge(project_id, "zeta", False)
        uow.commit()
    with uow:
        assert uow.upstream.settings(project_id) is None
        assert uow.upstream.merge_names(project_id) == ["alpha"]


def test_saving_a_page_keeps_stored_bytes_and_releases_dropped_or_replaced_files(
    uow: UnitOfWork,
) -> None:
    project_id = _project_id(uow)
    with uow:
        uow.upstream.save_page(project_id, UpstreamPage("demo", (_file(1), _file(2), _file(3))), T0)
        first = uow.upstream.page(project_id, "demo")
        for cached in first.files:
            uow.artifacts.add_reference(artifact(int(cached.file.sha256, 16)))
            assert uow.upstream.attach_artifact(cached.id, cached.file.sha256)
        assert not uow.upstream.attach_artifact(first.files[0].id, first.files[0].file.sha256)
        uow.commit()
    later = T0 + timedelta(minutes=5)
    page = UpstreamPage("demo", (_file(1, yanked=True), _file(2, sha=9), _file(4)), etag='"e2"')
    with uow:
        released = uow.upstream.save_page(project_id, page, later)
        uow.commit()
    assert released == {f"{2:064x}": 1, f"{3:064x}": 1}  # replaced bytes, dropped file
    with uow:
        found = uow.upstream.page(project_id, "demo")
    assert [f.file.filename for f in found.files] == [f.filename for f in page.files]
    assert [f.artifact_id for f in found.files] == [f"{1:064x}", None, None]
    assert found.files[0].file.yanked and found.files[0].file.yanked_reason == "bad"
    assert (found.checked_at, found.etag, found.missing) == (later, '"e2"', False)
    assert found.serial > first.serial


def test_lookups_metadata_missing_pages_expiry_and_purge(uow: UnitOfWork) -> None:
    project_id = _project_id(uow)
    with uow:
        uow.upstream.save_page(project_id, UpstreamPage("demo", (_file(1),)), T0)
        uow.upstream.mark_checked(project_id, "ghost", T0, missing=True)
        cached = uow.upstream.find_file(project_id, f"{1:064x}", "demo-1.0.tar.gz")
        uow.upstream.attach_metadata(cached.id, b"Metadata-Version: 2.1\n")
        uow.artifacts.add_reference(artifact(1))
        uow.upstream.attach_artifact(cached.id, f"{1:064x}")
        uow.commit()
    with uow:
        assert uow.upstream.find_file(project_id, f"{1:064x}", "other.tar.gz") is None
        found = uow.upstream.find_file(project_id, f"{1:064x}", "demo-1.0.tar.gz")
        assert found.core_metadata == b"Metadata-Version: 2.1\n"
        assert uow.upstream.find_file_by_id(found.id).artifact_id == f"{1:064x}"
        assert uow.upstream.page_name_of(found.page_id) == "demo"
        assert uow.upstream.page(project_id, "ghost").missing
        assert uow.upstream.page_names(project_id) == ["demo"]  # only pages with files
        assert uow.upstream.expire(project_id, "demo") and not uow.upstream.expire(project_id, "x")
        uow.commit()
    with uow:
        assert uow.upstream.page(project_id, "demo").checked_at < T0
        assert uow.upstream.purge(project_id, "demo") == {f"{1:064x}": 1}
        uow.commit()
    with uow:
        assert uow.upstream.page(project_id, "demo") is None
        assert uow.upstream.find_file_by_id(found.id) is None


def test_one_claim_at_a_time_until_released_or_stale(uow: UnitOfWork) -> None:
    stale_before = T0 - timedelta(seconds=30)
    with uow:
        assert uow.upstream.claim_fetch("k", "a", T0, stale_before)
        uow.commit()
    with uow:
        assert not uow.upstream.claim_fetch("k", "b", T0, stale_before)
        uow.upstream.release_claim("k", "b")  # not b's: nothing happens
        uow.commit()
    with uow:
        assert not uow.upstream.claim_fetch("k", "b", T0, stale_before)
        assert uow.upstream.claim_fetch(
            "k", "b", T0 + timedelta(minutes=1), T0 + timedelta(seconds=1)
        )
        uow.commit()  # a's claim was not renewed: b took it over
    with uow:
        uow.upstream.renew_claim("k", "b", T0 + timedelta(minutes=2))
        assert not uow.upstream.claim_fetch("k", "c", T0, T0 + timedelta(minutes=1))
        uow.upstream.release_claim("k", "b")
        assert uow.upstream.claim_fetch("k", "c", T0, stale_before)
        uow.commit()


def test_page_summaries_count_files_and_stored_bytes_by_name(uow: UnitOfWork) -> None:
    project_id = _project_id(uow)
    with uow:
        uow.upstream.save_page(project_id, UpstreamPage("beta", (_file(1), _file(2))), T0)
        uow.upstream.save_page(project_id, UpstreamPage("alpha", (_file(3),)), T0)
        uow.upstream.mark_checked(project_id, "ghost", T0, missing=True)
        stored = uow.upstream.page(project_id, "beta").files[1]
        uow.artifacts.add_reference(artifact(2))
        uow.upstream.attach_artifact(stored.id, f"{2:064x}")
        uow.commit()
    with uow:
        first, total = uow.upstream.page_summaries(project_id, offset=0, limit=2)
        rest, _ = uow.upstream.page_summaries(project_id, offset=2, limit=2)
    assert total == 3
    assert [(s.name, s.files, s.stored_files, s.stored_bytes) for s in first + rest] == [
        ("alpha", 1, 0, 0), ("beta", 2, 1, 20), ("ghost", 0, 0, 0),
    ]  # fmt: skip
    assert rest[0].missing and not first[0].missing and first[0].checked_at == T0
