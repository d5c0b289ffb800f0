"""Every setting is checked when it is read: a value Orchard cannot use is one sentence
naming the variable, the value and what would work (never a traceback later)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from entrypoints.config import ConfigError, Settings, load_settings, unknown_variables, variable

BAD = [
    ("ORCHARD_PORT", "abc", "a port from 1 to 65535"),
    ("ORCHARD_PORT", "99999", "a port from 1 to 65535"),
    ("ORCHARD_PORT", "0", "a port from 1 to 65535"),
    ("ORCHARD_HOST", "", "127.0.0.1"),
    ("ORCHARD_HOST", "a host", "127.0.0.1"),
    ("ORCHARD_DATA_DIR", " ", "directory"),
    ("ORCHARD_DATABASE_URL", "mysql://db/orchard", "postgresql+psycopg://"),
    ("ORCHARD_BLOB_STORE", "disk", "filesystem or s3"),
    ("ORCHARD_DIRECT_IO", "maybe", "true or false"),
    ("ORCHARD_S3_ENDPOINT", "minio:9000", "http://"),
    ("ORCHARD_S3_TIMEOUT", "0", "above 0"),
    ("ORCHARD_S3_READ_TIMEOUT", "soon", "above 0"),
    ("ORCHARD_S3_CREATE_BUCKET", "perhaps", "true or false"),
    ("ORCHARD_BLOB_CACHE_DIR", "  ", "directory path on local disk"),
    ("ORCHARD_BLOB_CACHE_SIZE", "100K", "at least 1M"),
    ("ORCHARD_BLOB_CACHE_SIZE", "big", "at least 1M"),
    ("ORCHARD_BLOB_CACHE_MAX_BLOB", "0", "above 0"),
    ("ORCHARD_ADMIN_USER", "root user", "letters, digits"),
    ("ORCHARD_MAX_UPLOAD_SIZE", "0", "K, M, G or T"),
    ("ORCHARD_MAX_UPLOAD_SIZE", "lots", "K, M, G or T"),
    ("ORCHARD_DOWNLOAD_MODE", "stream", "proxy or redirect"),
    ("ORCHARD_PRESIGN_EXPIRY", "999999", "604800"),
    ("ORCHARD_WORKERS", "0", "1 or more"),
    ("ORCHARD_THREADS", "-2", "1 or more"),
    ("ORCHARD_TIMEOUT", "-1", "0 or more"),
    ("ORCHARD_GRACEFUL_TIMEOUT", "nan", "0 or more"),
    ("ORCHARD_DEFAULT_INDEX", "Not/A/Project", "project name"),
    ("ORCHARD_GC_GRACE", "-5", "0 or more"),
    ("ORCHARD_LOG_LEVEL", "loud", "debug, info, warning"),
    ("ORCHARD_PASSWORD_CACHE_SECONDS", "-1", "0 or more"),
]


@pytest.mark.parametrize(("name", "value", "works"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_value_is_one_sentence_naming_variable_value_and_remedy(name, value, works) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value})
    message = str(raised.value)
    assert "\n" not in message
    assert f"{name}={value}" in message
    assert works in message


def test_a_short_admin_password_is_refused_without_being_shown() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"ORCHARD_ADMIN_PASSWORD": "hunter2"})
    message = str(raised.value)
    assert "hunter2" not in message
    assert "ORCHARD_ADMIN_PASSWORD (7 characters)" in message
    assert "8 to 1024 characters" in message


def test_a_value_with_a_line_break_stays_on_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"ORCHARD_BLOB_STORE": "s3\nfilesystem"})
    assert str(raised.value).startswith("ORCHARD_BLOB_STORE='s3\\nfilesystem' cannot be used")


def test_an_unreadable_config_file_is_one_sentence(tmp_path) -> None:
    missing = tmp_path / "orchard.conf"
    with pytest.raises(ConfigError, match=f"ORCHARD_CONFIG_FILE={missing} cannot be read"):
        load_settings({"ORCHARD_CONFIG_FILE": str(missing)})


def test_a_bad_value_in_the_config_file_is_refused_like_one_in_the_environment(tmp_path) -> None:
    config = tmp_path / "orchard.conf"
    config.write_text("ORCHARD_PORT=eighty\n")
    with pytest.raises(ConfigError, match="ORCHARD_PORT=eighty is not a whole number"):
        load_settings({"ORCHARD_CONFIG_FILE": str(config)})


def test_good_values_are_read() -> None:
    settings = load_settings(
        {
            "ORCHARD_PORT": "65535",
            "ORCHARD_MAX_UPLOAD_SIZE": "2G",
            "ORCHARD_DIRECT_IO": "off",
            "ORCHARD_S3_CREATE_BUCKET": "Yes",
            "ORCHARD_ADMIN_PASSWORD": "eight-ch",
            "ORCHARD_DATABASE_URL": "postgresql://orchard@db/orchard",
            "ORCHARD_LOG_LEVEL": "WARNING",
            "ORCHARD_GC_GRACE": "0",
            "ORCHARD_BLOB_CACHE_DIR": "/var/cache/orchard",
            "ORCHARD_BLOB_CACHE_SIZE": "20G",
            "ORCHARD_BLOB_CACHE_MAX_BLOB": "1G",
        }
    )
    assert (settings.port, settings.max_upload_size) == (65535, 2 * 1024**3)
    assert settings.blob_cache_dir == "/var/cache/orchard"
    assert (settings.blob_cache_size, settings.blob_cache_max_blob) == (20 * 1024**3, 1024**3)
    assert (settings.direct_io, settings.s3_create_bucket) == (False, True)


TYPED = [spec for spec in fields(Settings) if spec.type in ("int", "float", "bool")]


@pytest.mark.parametrize("spec", TYPED, ids=[spec.name for spec in TYPED])
def test_every_typed_setting_refuses_what_is_not_its_type(spec) -> None:
    with pytest.raises(ConfigError, match=f"^{variable(spec.name)}=not a value "):
        load_settings({variable(spec.name): "not a value"})


def test_a_misspelt_variable_is_named_with_the_setting_it_resembles() -> None:
    environ = {"ORCHARD_PROT": "9000", "ORCHARD_PORT": "9000", "ORCHARD_TEST_CONFIGS": "x"}
    assert unknown_variables(environ) == [
        "ORCHARD_PROT is not an Orchard setting and is ignored (did you mean ORCHARD_PORT?)."
    ]
