"""The pypi use cases against the fakes, with real wheels read by the real (stdlib)
ArchiveMetadataReader."""

from __future__ import annotations

import hashlib

import pytest

from adapters.package_metadata import ArchiveMetadataReader
from domain.errors import FileExists, InvalidInput, NotFound, Unauthenticated
from domain.services.projects import create_package, delete_package, get_package
from domain.services.pypi import index, manage
from domain.services.pypi.checks import DistributionUpload
from domain.services.pypi.upload import upload_distribution
from tests.integration.pypi.distributions import write_wheel, zip_bomb_wheel
from tests.unit.conftest import World


@pytest.fixture
def pypi(world: World) -> World:
    world.reader = ArchiveMetadataReader()
    world.project("proj")
    return world


def upload(world: World, path, *, version: str = "1.0.0", name: str = "demo", **digests):
    return upload_distribution(
        world.uow(), world.blobs, world.clock, world.reader, actor=world.admin,
        upload=DistributionUpload("proj", name, version, path.name, digests),
        staged=world.stage(path.read_bytes()),
    )  # fmt: skip


def page(world: World, actor=None) -> index.ProjectPage:
    return index.project_page(world.uow(), actor=actor or world.admin, project="proj", name="demo")


def test_the_first_upload_creates_the_package_and_records_the_release(pypi, tmp_path) -> None:
    wheel = write_wheel(tmp_path, "Demo", "1.0.0", requires_python=">=3.9")
    result = upload(pypi, wheel, name="Demo")
    listed = page(pypi)
    assert (result.package, result.duplicate, listed.versions) == ("demo", False, ("1.0.0",))
    (file,) = listed.files
    metadata = index.core_metadata(
        pypi.uow(), actor=None, project="proj", sha256=file.sha256, filename=file.filename
    )
    assert b"Name: Demo" in metadata
    assert (file.requires_python, file.metadata_sha256) == (
        ">=3.9",
        hashlib.sha256(metadata).hexdigest(),
    )
    assert pypi.artifact(result.sha256).ref_count == 1 and pypi.blobs.exists(result.sha256)
    assert pypi.blobs.staged == {}


def test_identical_bytes_again_change_nothing_and_other_bytes_conflict(pypi, tmp_path) -> None:
    first = upload(pypi, write_wheel(tmp_path / "a", "demo", "1.0.0"))
    assert upload(pypi, write_wheel(tmp_path / "a", "demo", "1.0.0")).duplicate
    assert pypi.artifact(first.sha256).ref_count == 1
    with pytest.raises(FileExists, match=r"^File already exists"):
        upload(pypi, write_wheel(tmp_path / "b", "demo", "1.0.0", payload=b"other"))
    assert pypi.blobs.staged == {}


def test_allow_overwrite_replaces_the_file_and_releases_the_old_bytes(pypi, tmp_path) -> None:
    first = upload(pypi, write_wheel(tmp_path / "a", "demo", "1.0.0"))
    with pypi.uow() as uow:
        project = uow.projects.get("proj")
        project.allow_overwrite = True
        uow.projects.update(project)
        uow.commit()
    second = upload(pypi, write_wheel(tmp_path / "b", "demo", "1.0.0", payload=b"other"))
    assert pypi.artifact(first.sha256).ref_count == 0
    assert [f.sha256 for f in page(pypi).files] == [second.sha256]


def test_a_deleted_filename_is_never_reused_with_other_bytes(pypi, tmp_path) -> None:
    wheel = write_wheel(tmp_path / "a", "demo", "1.0.0")
    first = upload(pypi, wheel)
    manage.delete(pypi.uow(), pypi.clock, actor=pypi.admin, project="proj", package="demo",
                  filename=wheel.name)  # fmt: skip
    assert pypi.artifact(first.sha256).ref_count == 0 and page(pypi).files == ()
    with pytest.raises(FileExists, match="deleted"):
        upload(pypi, write_wheel(tmp_path / "b", "demo", "1.0.0", payload=b"other"))
    assert not upload(pypi, wheel).duplicate  # its own bytes bring it back
    assert pypi.artifact(first.sha256).ref_count == 1


@pytest.mark.parametrize(
    ("digest", "value"),
    [("sha256_digest", "0" * 64), ("md5_digest", "0" * 32), ("blake2_256_digest", "0" * 64)],
)
def test_every_digest_sent_is_verified(pypi, tmp_path, digest: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=digest):
        upload(pypi, write_wheel(tmp_path, "demo", "1.0.0"), **{digest: value})
    assert pypi.blobs.staged == {} and pypi.blobs.blobs == {}


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: (p.write_bytes(b"not a zip"), p)[1], "not a valid zip"),
        (lambda p: zip_bomb_wheel(p.parent / "bomb", "demo", "1.0.0"), "zip bomb"),
    ],
)
def test_a_broken_wheel_is_refused_with_a_reason(pypi, tmp_path, make, words: str) -> None:
    path = make(write_wheel(tmp_path, "demo", "1.0.0"))
    with pytest.raises(InvalidInput, match=words):
        upload(pypi, path)
    assert pypi.blobs.blobs == {}


def test_the_form_must_agree_with_the_filename(pypi, tmp_path) -> None:
    wheel = write_wheel(tmp_path, "demo", "1.0.0")
    with pytest.raises(InvalidInput, match="does not match the version"):
        upload(pypi, wheel, version="1.0.1")
    with pytest.raises(InvalidInput, match="does not match the name"):
        upload(pypi, wheel, name="other")


def test_yank_and_unyank_a_release(pypi, tmp_path) -> None:
    upload(pypi, write_wheel(tmp_path, "demo", "1.0.0"))
    args = {"actor": pypi.admin, "project": "proj", "package": "demo", "version": "1.0.0"}
    manage.yank(pypi.uow(), pypi.clock, reason="broken", **args)
    assert [(f.yanked, f.yanked_reason) for f in page(pypi).files] == [(True, "broken")]
    manage.unyank(pypi.uow(), pypi.clock, **args)
    assert [(f.yanked, f.yanked_reason) for f in page(pypi).files] == [(False, None)]


def test_changes_advance_the_serial_behind_the_etag(pypi, tmp_path) -> None:
    upload(pypi, write_wheel(tmp_path, "demo", "1.0.0"))
    before = page(pypi).serial
    manage.yank(pypi.uow(), pypi.clock, actor=pypi.admin, project="proj", package="demo",
                version="1.0.0")  # fmt: skip
    assert page(pypi).serial > before


def test_a_page_the_caller_has_is_answered_with_its_key_alone(pypi, tmp_path) -> None:
    upload(pypi, write_wheel(tmp_path, "demo", "1.0.0"))
    offered = []

    def have(key: index.PageKey) -> bool:
        offered.append(key)
        return key == fresh.key

    fresh = page(pypi)
    where = {"actor": None, "project": "proj", "name": "demo"}
    assert index.project_page(pypi.uow(), **where, have=have) == fresh.key
    upload(pypi, write_wheel(tmp_path / "b", "demo", "1.0.1"), version="1.0.1")
    newer = index.project_page(pypi.uow(), **where, have=have)  # a key it lacks: the page
    assert isinstance(newer, index.ProjectPage) and newer.versions == ("1.0.0", "1.0.1")
    assert offered == [fresh.key, newer.key] and newer.serial > fresh.serial


def test_the_root_key_moves_with_the_package_list_only(pypi, tmp_path) -> None:
    def key() -> index.RootKey:
        return index.root_page(pypi.uow(), actor=None, project="proj", have=lambda key: True)

    empty = key()
    upload(pypi, write_wheel(tmp_path / "a", "demo", "1.0.0"))
    with_demo = key()
    upload(pypi, write_wheel(tmp_path / "b", "demo", "1.0.1"), version="1.0.1")  # same list
    assert key() == with_demo != empty
    root = index.root_page(pypi.uow(), actor=None, project="proj")
    assert (root.names, root.key) == (("demo",), with_demo)
    delete_package(pypi.uow(), pypi.clock, actor=pypi.admin, project="proj", name="demo")
    assert key() not in (empty, with_demo)
    assert index.root_page(pypi.uow(), actor=None, project="proj").names == ()


def test_a_private_index_is_401_for_anonymous_and_404_for_outsiders(pypi, tmp_path) -> None:
    pypi.project("secret", public=False)
    with pytest.raises(Unauthenticated):
        index.root_page(pypi.uow(), actor=None, project="secret")
    with pytest.raises(Unauthenticated):  # a missing project looks the same
        index.root_page(pypi.uow(), actor=None, project="nothing-here")
    with pytest.raises(NotFound):
        index.root_page(pypi.uow(), actor=pypi.add_user("bob"), project="secret")
    with pytest.raises(Unauthenticated):  # the cache key is guarded like the page
        index.root_page(pypi.uow(), actor=None, project="secret", have=lambda key: True)


def test_a_file_and_its_metadata_are_served_while_live_to_who_may_read(pypi, tmp_path) -> None:
    wheel = write_wheel(tmp_path, "demo", "1.0.0", payload=b"x" * 300)
    sha = upload(pypi, wheel).sha256

    def fetch(actor=None, filename=wheel.name, project="proj", sha256=sha.upper()):
        where = {"actor": actor, "project": project, "sha256": sha256, "filename": filename}
        return index.find_file(pypi.uow(), **where), index.core_metadata(pypi.uow(), **where)

    found, metadata = fetch()
    assert (found.artifact.id, found.artifact.size, found.filename) == (sha, wheel.stat().st_size,
                                                                        wheel.name)  # fmt: skip
    with pypi.uow() as uow:
        assert found.package.project_id == uow.projects.get("proj").id
    assert b"Name: demo" in metadata
    for wrong in ({"filename": "demo-1.0.0.tar.gz"}, {"sha256": "0" * 64}):
        with pytest.raises(NotFound):
            fetch(**wrong)
    with pytest.raises(Unauthenticated):
        fetch(project="nothing-here")
    with pypi.uow() as uow:
        hidden = uow.projects.get("proj")
        hidden.is_public = False
        uow.projects.update(hidden)
        uow.commit()
    with pytest.raises(Unauthenticated):
        fetch()
    with pytest.raises(NotFound):
        fetch(actor=pypi.add_user("bob"))
    assert fetch(actor=pypi.admin)[0].artifact.id == sha
    with pypi.uow() as uow:  # an upload removed through the generic API leaves no reference
        package = uow.packages.find("proj", "demo")[1]
        orphan = uow.distributions.get(package.id, wheel.name)
        orphan.upload_id = None
        uow.distributions.update(orphan)
        uow.commit()
    with pytest.raises(NotFound):
        index.find_file(pypi.uow(), actor=pypi.admin, project="proj", sha256=sha,
                        filename=wheel.name)  # fmt: skip


def test_an_sdist_without_the_form_field_gets_requires_python_from_its_pkg_info(
    pypi, tmp_path
) -> None:
    import io
    import tarfile

    pkg_info = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0.0\nRequires-Python: >=3.10\n\n"
    sdist = tmp_path / "demo-1.0.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        member = tarfile.TarInfo("demo-1.0.0/PKG-INFO")
        member.size = len(pkg_info)
        archive.addfile(member, io.BytesIO(pkg_info))
    upload(pypi, sdist)
    (file,) = page(pypi).files
    assert (file.filename, file.requires_python) == ("demo-1.0.0.tar.gz", ">=3.10")


@pytest.mark.parametrize("spelling", ["nc-hello", "nc_hello", "NC.Hello", "nc__hello"])
def test_any_spelling_pep_503_folds_to_a_python_package_finds_it(pypi, spelling) -> None:
    create_package(pypi.uow(), pypi.clock, actor=pypi.admin, project="proj",
                   name="NC_Hello", format="pypi")  # fmt: skip
    found = get_package(pypi.uow(), actor=None, project="proj", name=spelling)
    assert found.name == "nc-hello"


def test_a_generic_package_is_found_by_its_exact_name_only(pypi) -> None:
    create_package(pypi.uow(), pypi.clock, actor=pypi.admin, project="proj", name="my-tool")
    assert get_package(pypi.uow(), actor=None, project="proj", name="my-tool").name == "my-tool"
    with pytest.raises(NotFound, match="'my_tool' not found"):
        get_package(pypi.uow(), actor=None, project="proj", name="my_tool")
