"""
Integration tests for upload/download with various file sizes.

Tests cover:
- Small files (0B - 100KB)
- Medium files (1MB - 50MB)
- Large files (100MB - 1GB) - marked as slow/large
- Exact chunk boundaries
- Data integrity verification across all sizes

Ported from upstream. The large tests (100 MB - 1 GB) stream their content from a seed
(``SeededContent``) and hash the download while it streams, instead of holding the
content, the request and the response in memory at once: the same assertions (status,
artifact id, size, sha256 of the downloaded bytes) in a few MiB instead of ~3 GB.
"""

import gzip
import time

import pytest

from tests.factories import (
    SeededContent,
    compute_sha256,
    download_digest,
    upload_test_file,
)
from tests.integration.seed.sizes import (
    CHUNK_SIZE,
    SIZE_1B,
    SIZE_1GB,
    SIZE_1KB,
    SIZE_1MB,
    SIZE_5MB,
    SIZE_10KB,
    SIZE_10MB,
    SIZE_50MB,
    SIZE_100KB,
    SIZE_100MB,
    SIZE_250MB,
    SIZE_500MB,
)


class TestSmallFileSizes:
    """Tests for small file uploads/downloads (0B - 100KB)."""

    @pytest.mark.integration
    def test_upload_download_1_byte(self, integration_client, test_package, sized_content):
        """Test upload/download of 1 byte file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_1B, seed=1)

        result = upload_test_file(
            integration_client, project, package, content, filename="1byte.bin", tag="1byte"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_1B

        # Download and verify
        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/1byte",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content
        assert len(response.content) == SIZE_1B

    @pytest.mark.integration
    def test_upload_download_1kb(self, integration_client, test_package, sized_content):
        """Test upload/download of 1KB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_1KB, seed=2)

        result = upload_test_file(
            integration_client, project, package, content, filename="1kb.bin", tag="1kb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_1KB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/1kb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_upload_download_10kb(self, integration_client, test_package, sized_content):
        """Test upload/download of 10KB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_10KB, seed=3)

        result = upload_test_file(
            integration_client, project, package, content, filename="10kb.bin", tag="10kb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_10KB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/10kb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_upload_download_100kb(self, integration_client, test_package, sized_content):
        """Test upload/download of 100KB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_100KB, seed=4)

        result = upload_test_file(
            integration_client, project, package, content, filename="100kb.bin", tag="100kb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_100KB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/100kb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content


class TestMediumFileSizes:
    """Tests for medium file uploads/downloads (1MB - 50MB)."""

    @pytest.mark.integration
    def test_upload_download_1mb(self, integration_client, test_package, sized_content):
        """Test upload/download of 1MB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_1MB, seed=10)

        result = upload_test_file(
            integration_client, project, package, content, filename="1mb.bin", tag="1mb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_1MB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/1mb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert len(response.content) == SIZE_1MB
        assert compute_sha256(response.content) == expected_hash

    @pytest.mark.integration
    def test_upload_download_5mb(self, integration_client, test_package, sized_content):
        """Test upload/download of 5MB file (multipart threshold boundary area)."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_5MB, seed=11)

        result = upload_test_file(
            integration_client, project, package, content, filename="5mb.bin", tag="5mb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_5MB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/5mb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert len(response.content) == SIZE_5MB
        assert compute_sha256(response.content) == expected_hash

    @pytest.mark.integration
    @pytest.mark.slow
    def test_upload_download_10mb(self, integration_client, test_package, sized_content):
        """Test upload/download of 10MB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_10MB, seed=12)

        result = upload_test_file(
            integration_client, project, package, content, filename="10mb.bin", tag="10mb"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_10MB

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/10mb",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert len(response.content) == SIZE_10MB
        assert compute_sha256(response.content) == expected_hash

    @pytest.mark.integration
    @pytest.mark.slow
    def test_upload_download_50mb(self, integration_client, test_package, sized_content):
        """Test upload/download of 50MB file."""
        project, package = test_package
        content, expected_hash = sized_content(SIZE_50MB, seed=13)

        start_time = time.time()
        result = upload_test_file(
            integration_client, project, package, content, filename="50mb.bin", tag="50mb"
        )
        upload_time = time.time() - start_time

        assert result["artifact_id"] == expected_hash
        assert result["size"] == SIZE_50MB

        start_time = time.time()
        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/50mb",
            params={"mode": "proxy"},
        )
        download_time = time.time() - start_time

        assert response.status_code == 200
        assert len(response.content) == SIZE_50MB
        assert compute_sha256(response.content) == expected_hash

        # Log timing for performance tracking
        print(f"\n50MB upload: {upload_time:.2f}s, download: {download_time:.2f}s")


def _upload_download_large(live_server, client, project, package, size, seed, filename, tag):
    """The upstream large-file round trip, streamed both ways (bounded memory)."""
    if live_server.max_upload_size < size:
        pytest.skip(
            f"the server accepts at most {live_server.max_upload_size} bytes; "
            "run the large tests with ORCHARD_TEST_MAX_UPLOAD_SIZE=2G"
        )
    content = SeededContent(size, seed)
    expected_hash = content.sha256

    start_time = time.time()
    result = upload_test_file(client, project, package, content.open(), filename=filename, tag=tag)
    upload_time = time.time() - start_time

    assert result["artifact_id"] == expected_hash
    assert result["size"] == size

    start_time = time.time()
    status, downloaded_size, downloaded_hash = download_digest(
        client, f"/api/v1/project/{project}/{package}/+/{tag}", params={"mode": "proxy"}
    )
    download_time = time.time() - start_time

    assert status == 200
    assert downloaded_size == size
    assert downloaded_hash == expected_hash
    return upload_time, download_time


class TestLargeFileSizes:
    """Tests for large file uploads/downloads (100MB - 1GB).

    These tests are marked as slow and large, skipped by default.
    Run with: pytest -m "large" to include these tests.
    """

    @pytest.mark.integration
    @pytest.mark.slow
    @pytest.mark.large
    def test_upload_download_100mb(self, integration_client, test_package, live_server):
        """Test upload/download of 100MB file (multipart threshold)."""
        project, package = test_package
        upload_time, download_time = _upload_download_large(
            live_server, integration_client, project, package, SIZE_100MB, 100, "100mb.bin", "100mb"
        )
        print(f"\n100MB upload: {upload_time:.2f}s, download: {download_time:.2f}s")

    @pytest.mark.integration
    @pytest.mark.slow
    @pytest.mark.large
    def test_upload_download_250mb(self, integration_client, test_package, live_server):
        """Test upload/download of 250MB file."""
        project, package = test_package
        upload_time, download_time = _upload_download_large(
            live_server, integration_client, project, package, SIZE_250MB, 250, "250mb.bin", "250mb"
        )
        print(f"\n250MB upload: {upload_time:.2f}s, download: {download_time:.2f}s")

    @pytest.mark.integration
    @pytest.mark.slow
    @pytest.mark.large
    def test_upload_download_500mb(self, integration_client, test_package, live_server):
        """Test upload/download of 500MB file."""
        project, package = test_package
        upload_time, download_time = _upload_download_large(
            live_server, integration_client, project, package, SIZE_500MB, 500, "500mb.bin", "500mb"
        )
        print(f"\n500MB upload: {upload_time:.2f}s, download: {download_time:.2f}s")

    @pytest.mark.integration
    @pytest.mark.slow
    @pytest.mark.large
    def test_upload_download_1gb(self, integration_client, test_package, live_server):
        """Test upload/download of 1GB file.

        This test may take several minutes depending on network/disk speed.
        """
        project, package = test_package
        upload_time, download_time = _upload_download_large(
            live_server, integration_client, project, package, SIZE_1GB, 1024, "1gb.bin", "1gb"
        )
        print(f"\n1GB upload: {upload_time:.2f}s, download: {download_time:.2f}s")


class TestChunkBoundaries:
    """Tests for exact chunk size boundaries."""

    @pytest.mark.integration
    def test_upload_download_at_chunk_size(self, integration_client, test_package, sized_content):
        """Test upload/download at exact chunk size (64KB)."""
        project, package = test_package
        content, expected_hash = sized_content(CHUNK_SIZE, seed=64)

        result = upload_test_file(
            integration_client, project, package, content, filename="chunk.bin", tag="chunk-exact"
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == CHUNK_SIZE

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/chunk-exact",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_upload_download_chunk_size_plus_1(
        self, integration_client, test_package, sized_content
    ):
        """Test upload/download at chunk size + 1 byte."""
        project, package = test_package
        size = CHUNK_SIZE + 1
        content, expected_hash = sized_content(size, seed=65)

        result = upload_test_file(
            integration_client,
            project,
            package,
            content,
            filename="chunk_plus.bin",
            tag="chunk-plus",
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == size

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/chunk-plus",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_upload_download_chunk_size_minus_1(
        self, integration_client, test_package, sized_content
    ):
        """Test upload/download at chunk size - 1 byte."""
        project, package = test_package
        size = CHUNK_SIZE - 1
        content, expected_hash = sized_content(size, seed=63)

        result = upload_test_file(
            integration_client,
            project,
            package,
            content,
            filename="chunk_minus.bin",
            tag="chunk-minus",
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == size

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/chunk-minus",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_upload_download_multiple_chunks(self, integration_client, test_package, sized_content):
        """Test upload/download spanning multiple chunks."""
        project, package = test_package
        size = CHUNK_SIZE * 3 + 1000  # 3 full chunks + partial
        content, expected_hash = sized_content(size, seed=300)

        result = upload_test_file(
            integration_client,
            project,
            package,
            content,
            filename="multi_chunk.bin",
            tag="multi-chunk",
        )
        assert result["artifact_id"] == expected_hash
        assert result["size"] == size

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/multi-chunk",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content


class TestDataIntegrity:
    """Tests for data integrity with various content types."""

    @pytest.mark.integration
    def test_binary_content_integrity(self, integration_client, test_package):
        """Test binary content (all byte values 0-255) integrity."""
        project, package = test_package
        # Content with all 256 possible byte values
        content = bytes(range(256)) * 100  # 25.6KB
        expected_hash = compute_sha256(content)

        result = upload_test_file(
            integration_client, project, package, content, filename="binary.bin", tag="binary"
        )
        assert result["artifact_id"] == expected_hash

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/binary",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_text_content_integrity(self, integration_client, test_package):
        """Test UTF-8 text content integrity."""
        project, package = test_package
        content = "Hello, World! 你好世界 🌍 مرحبا العالم".encode()
        expected_hash = compute_sha256(content)

        result = upload_test_file(
            integration_client, project, package, content, filename="text.txt", tag="text"
        )
        assert result["artifact_id"] == expected_hash

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/text",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content
        assert response.content.decode("utf-8") == "Hello, World! 你好世界 🌍 مرحبا العالم"

    @pytest.mark.integration
    def test_null_bytes_content_integrity(self, integration_client, test_package):
        """Test content with null bytes."""
        project, package = test_package
        content = b"before\x00null\x00bytes\x00after"
        expected_hash = compute_sha256(content)

        result = upload_test_file(
            integration_client, project, package, content, filename="nulls.bin", tag="nulls"
        )
        assert result["artifact_id"] == expected_hash

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/nulls",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content
        assert b"\x00" in response.content

    @pytest.mark.integration
    def test_unicode_filename_integrity(self, integration_client, test_package):
        """Test file with unicode filename."""
        project, package = test_package
        content = b"unicode filename test"
        expected_hash = compute_sha256(content)

        result = upload_test_file(
            integration_client,
            project,
            package,
            content,
            filename="文件名.txt",
            tag="unicode-name",
        )
        assert result["artifact_id"] == expected_hash
        assert result["original_name"] == "文件名.txt"

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/unicode-name",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content

    @pytest.mark.integration
    def test_compressed_content_integrity(self, integration_client, test_package):
        """Test gzip-compressed content integrity."""
        project, package = test_package
        original = b"This is some text that will be compressed " * 100
        content = gzip.compress(original)
        expected_hash = compute_sha256(content)

        result = upload_test_file(
            integration_client, project, package, content, filename="data.gz", tag="compressed"
        )
        assert result["artifact_id"] == expected_hash

        response = integration_client.get(
            f"/api/v1/project/{project}/{package}/+/compressed",
            params={"mode": "proxy"},
        )
        assert response.status_code == 200
        assert response.content == content
        # Verify we can decompress
        assert gzip.decompress(response.content) == original

    @pytest.mark.integration
    def test_hash_verification_matches(self, integration_client, test_package, sized_content):
        """Test that computed hash matches artifact_id for various sizes."""
        project, package = test_package
        sizes = [SIZE_1B, SIZE_1KB, SIZE_10KB, SIZE_100KB, SIZE_1MB]

        for i, size in enumerate(sizes):
            content, expected_hash = sized_content(size, seed=1000 + i)

            result = upload_test_file(
                integration_client,
                project,
                package,
                content,
                filename=f"hash_test_{size}.bin",
                tag=f"hash-{size}",
            )

            # Verify artifact_id matches expected hash
            assert result["artifact_id"] == expected_hash

            # Download and verify hash of downloaded content
            response = integration_client.get(
                f"/api/v1/project/{project}/{package}/+/hash-{size}",
                params={"mode": "proxy"},
            )
            downloaded_hash = compute_sha256(response.content)
            assert downloaded_hash == expected_hash
