"""The pypi use cases against the fakes, with real wheels read by the real (stdlib)
ArchiveMetadataReader."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
import zipfile

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


# ----------------------------------------------------------------- archives pypi.org refuses


def sdist_bytes(members: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


def pkg_info(name: str = "demo", version: str = "1.0.0") -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def assert_refused_and_nothing_stored(
    world: World, path, reason: str, requires_python: str | None = None
) -> None:
    version = path.name.removesuffix(".tar.gz").removesuffix(".zip").split("-")[1]
    with pytest.raises(InvalidInput, match=reason):
        upload_distribution(
            world.uow(), world.blobs, world.clock, world.reader, actor=world.admin,
            upload=DistributionUpload("proj", "demo", version, path.name, {},
                                      requires_python=requires_python),
            staged=world.stage(path.read_bytes()),
        )  # fmt: skip
    assert world.blobs.blobs == {} and world.blobs.staged == {}
    with world.uow() as uow:
        assert uow.packages.find("proj", "demo")[1] is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (sdist_bytes({"demo-1.0.0/PKG-INFO": pkg_info()}, mode="w"), "is not gzip-compressed"),
        (b"just some bytes, not an archive", "is not gzip-compressed"),
        (gzip.compress(b"gzip, but no tar inside" * 50), "not a readable"),
        (sdist_bytes({"demo-1.0.0/setup.py": b""}), "has no PKG-INFO"),
        (sdist_bytes({"demo-1.0.0/PKG-INFO": pkg_info("other")}), "names the project 'other'"),
        (sdist_bytes({"demo-1.0.0/PKG-INFO": pkg_info(version="2.0")}), "says version '2.0'"),
    ],
    ids=[
        "plain tar",
        "not an archive",
        "gzip not tar",
        "no PKG-INFO",
        "other name",
        "other version",
    ],
)
def test_a_tar_gz_sdist_that_is_not_what_its_name_says_is_refused(
    pypi, tmp_path, content, reason
) -> None:
    path = tmp_path / "demo-1.0.0.tar.gz"
    path.write_bytes(content)
    assert_refused_and_nothing_stored(pypi, path, reason)
    assert_refused_and_nothing_stored(pypi, path, reason, requires_python=">=3.8")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (sdist_bytes({"demo-1.0.0/PKG-INFO": pkg_info()}), "not a readable zip"),
        (zip_bytes({"demo-1.0.0/setup.py": b""}), "has no PKG-INFO"),
        (zip_bytes({"demo-1.0.0/PKG-INFO": pkg_info("other")}), "names the project"),
    ],
)
def test_a_zip_sdist_that_is_not_what_its_name_says_is_refused(
    pypi, tmp_path, content, reason
) -> None:
    path = tmp_path / "demo-1.0.0.zip"
    path.write_bytes(content)
    assert_refused_and_nothing_stored(pypi, path, reason)


def test_an_sdist_whose_pkg_info_agrees_after_normalization_is_stored(pypi, tmp_path) -> None:
    path = tmp_path / "demo-1.0.0.tar.gz"
    path.write_bytes(sdist_bytes({"Demo-1.0.0/PKG-INFO": pkg_info("Demo", "1.0")}))
    assert upload(pypi, path).filename == "demo-1.0.0.tar.gz"
    zipped = tmp_path / "demo-1.0.1.zip"
    zipped.write_bytes(zip_bytes({"demo-1.0.1/PKG-INFO": pkg_info("demo", "1.0.1")}))
    assert upload(pypi, zipped, version="1.0.1").filename == "demo-1.0.1.zip"


@pytest.mark.parametrize(
    ("name", "version", "reason"),
    [
        ("other-project", "1.0.0", "names the project 'other-project', but the filename says"),
        ("demo", "6.6.6", "says version '6.6.6', but the filename says '1.0.0'"),
    ],
)
def test_a_wheel_whose_metadata_names_another_project_or_version_is_refused(
    pypi, tmp_path, name, version, reason
) -> None:
    from tests.integration.pypi.distributions import core_metadata

    wheel = write_wheel(tmp_path, "demo", "1.0.0", metadata=core_metadata(name, version))
    assert_refused_and_nothing_stored(pypi, wheel, reason)


def test_a_wheel_whose_metadata_lacks_a_version_is_refused(pypi, tmp_path) -> None:
    wheel = write_wheel(
        tmp_path, "demo", "1.0.0", metadata=b"Metadata-Version: 2.1\nName: demo\n\n"
    )
    assert_refused_and_nothing_stored(pypi, wheel, "lacks its Name or Version")


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
