"""``orchard serve`` sweeps the temporary uploads a killed worker left, once they are
older than the gc grace period, and starts anyway when the blob store does not answer."""

from __future__ import annotations

from datetime import datetime

from domain.errors import BackendUnavailable
from entrypoints.bootstrap import bootstrap
from entrypoints.config import Settings
from entrypoints.startup import prepare, sweep_stale_uploads
from tests.fakes.blobs import FakeBlobStore
from tests.unit.conftest import World


def services_of(world: World, tmp_path, **blobs):
    settings = Settings(data_dir=str(tmp_path), secret_key="k", gc_grace=3600)
    return bootstrap(
        settings,
        uow=lambda read_only=False, snapshot=False: world.uow(),
        blobs=blobs.get("blobs", world.blobs),
        clock=world.clock,
        reader=world.reader,
        hasher=world.hasher,
    )


def test_start_up_sweeps_only_temporary_uploads_older_than_the_grace(world, tmp_path):
    world.stage(b"left by a worker killed an hour ago")
    world.clock.advance(minutes=61)
    world.stage(b"an upload another instance is receiving")
    said = []

    prepare(services_of(world, tmp_path), announce=lambda text, **_: said.append(text))

    assert world.blobs.temporary_count() == 1
    assert said == ["Removed 1 stale temporary upload(s) left by a worker stopped mid-upload."]


class UnreachableStore(FakeBlobStore):
    def sweep_temporary(self, older_than: datetime) -> int:
        raise BackendUnavailable("The blob store is unavailable.")


def test_an_unreachable_blob_store_skips_the_sweep_and_start_up_goes_on(world, tmp_path):
    said = []
    services = services_of(world, tmp_path, blobs=UnreachableStore())
    sweep_stale_uploads(services, announce=lambda text, **_: said.append(text))
    assert said == ["Skipped the sweep of stale temporary uploads: The blob store is unavailable."]
