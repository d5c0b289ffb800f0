"""The blob key layout both stores share (``names.blob_key``), and its inverse."""

from __future__ import annotations

import pytest

from domain.errors import BlobNotFound
from domain.names import blob_key, blob_of_key

SHA = "abcd" + "0" * 60


def test_a_blob_lives_two_fan_out_levels_down():
    assert blob_key(SHA) == f"ab/cd/{SHA}"


@pytest.mark.parametrize(
    "value",
    [
        SHA.upper(),  # ids are lowercase: another case would be another object
        SHA[:-1],
        SHA + "0",
        "../" + SHA[3:],
        "ab/cd/" + SHA[6:],
        "",
        None,
        64 * "g",
    ],
)
def test_anything_but_an_artifact_id_is_no_blob(value):
    with pytest.raises(BlobNotFound):
        blob_key(value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"ab/cd/{SHA}", SHA),
        (f"ab/ce/{SHA}", None),  # in the wrong directory: not laid out by blob_key
        (f"cd/ab/{SHA}", None),
        (f"ab/cd/{SHA}/x", None),
        (f".tmp/{'0' * 32}", None),
        (f"quarantine/{SHA}", None),
        (f"ab/cd/{SHA.upper()}", None),
        ("", None),
    ],
)
def test_a_listed_key_names_a_blob_only_when_laid_out_as_one(key, expected):
    assert blob_of_key(key) == expected


def test_the_layout_round_trips():
    assert blob_of_key(blob_key(SHA)) == SHA
