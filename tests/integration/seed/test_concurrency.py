"""
Integration tests for concurrent upload and download operations.

Tests cover:
- Concurrent uploads of different files
- Concurrent uploads of same file (deduplication race)
- Concurrent downloads of same artifact
- Concurrent downloads of different artifacts
- Mixed concurrent uploads and downloads
- Data corruption prevention under concurrency

Ported from upstream: the workers connect to the live server (``base_url``) instead of
``ORCHARD_TEST_URL``, and the upload/download steps every worker repeated upstream live in
``concurrency_workers``; test names, data and assertions are upstream's.
"""

import uuid

import pytest

from tests.factories import (
    compute_sha256,
    generate_content_with_hash,
    upload_test_file,
)
from tests.integration.seed.concurrency_workers import (
    attempt,
    download,
    run_concurrently,
    upload,
)


def get_api_key(integration_client):
    """Create an API key for concurrent test workers."""
    response = integration_client.post(
        "/api/v1/auth/keys",
        json={"name": f"concurrent-test-{uuid.uuid4().hex[:8]}"},
    )
    if response.status_code == 200:
        return response.json()["key"]
    return None


def upload_different_files(base_url, api_key, project, package, files_data, tag_prefix):
    """Upload each (content, hash) as ``file-<i>.bin`` tagged ``<tag_prefix>-<i>``, all at
    once; return (results as (idx, json, expected hash), errors)."""
    results, errors = [], []

    def job(idx, content, expected_hash):
        return lambda: attempt(
            errors,
            f"Worker {idx}",
            lambda: upload(
                base_url,
                api_key,
                project,
                package,
                content,
                filename=f"file-{idx}.bin",
                tag=f"{tag_prefix}-{idx}",
            ),
            lambda response: results.append((idx, response.json(), expected_hash)),
        )

    jobs = [job(i, content, hash) for i, (content, hash) in enumerate(files_data)]
    run_concurrently(len(files_data), jobs)
    return results, errors


def download_same_tag(base_url, project, package, tag, count):
    """Download ``tag`` ``count`` times at once; return (results as (idx, bytes), errors)."""
    results, errors = [], []

    def job(idx):
        return lambda: attempt(
            errors,
            f"Worker {idx}",
            lambda: download(base_url, project, package, tag),
            lambda response: results.append((idx, response.content)),
        )

    run_concurrently(count, [job(i) for i in range(count)])
    return results, errors


class TestConcurrentUploads:
    """Tests for concurrent upload operations."""

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_2_concurrent_uploads_different_files(self, integration_client, test_package, base_url):
        """Test 2 concurrent uploads of different files."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        files_data = [generate_content_with_hash(1024, seed=i) for i in range(2)]

        results, errors = upload_different_files(
            base_url, api_key, project, package, files_data, "concurrent"
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == 2

        # Verify each upload returned correct artifact_id
        for _idx, result, expected_hash in results:
            assert result["artifact_id"] == expected_hash

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_5_concurrent_uploads_different_files(self, integration_client, test_package, base_url):
        """Test 5 concurrent uploads of different files."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        num_files = 5
        files_data = [generate_content_with_hash(2048, seed=100 + i) for i in range(num_files)]

        results, errors = upload_different_files(
            base_url, api_key, project, package, files_data, "concurrent5"
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_files

        # Verify all uploads have unique artifact_ids
        artifact_ids = set(r[1]["artifact_id"] for r in results)
        assert len(artifact_ids) == num_files

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_10_concurrent_uploads_different_files(
        self, integration_client, test_package, base_url
    ):
        """Test 10 concurrent uploads of different files."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        num_files = 10
        files_data = [generate_content_with_hash(1024, seed=200 + i) for i in range(num_files)]

        results, errors = upload_different_files(
            base_url, api_key, project, package, files_data, "concurrent10"
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_files

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_concurrent_uploads_same_file_deduplication(
        self, integration_client, test_package, base_url
    ):
        """Test concurrent uploads of same file handle deduplication correctly."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        content, expected_hash = generate_content_with_hash(4096, seed=999)
        num_concurrent = 5

        results = []
        errors = []

        def upload_worker(idx):
            attempt(
                errors,
                f"Worker {idx}",
                lambda: upload(
                    base_url,
                    api_key,
                    project,
                    package,
                    content,
                    filename=f"same-{idx}.bin",
                    tag=f"dedup-{idx}",
                ),
                lambda response: results.append(response.json()),
            )

        run_concurrently(
            num_concurrent, [lambda i=i: upload_worker(i) for i in range(num_concurrent)]
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_concurrent

        # All should have same artifact_id
        artifact_ids = set(r["artifact_id"] for r in results)
        assert len(artifact_ids) == 1
        assert expected_hash in artifact_ids

        # Verify final ref_count equals number of uploads
        response = integration_client.get(f"/api/v1/artifact/{expected_hash}")
        assert response.status_code == 200
        assert response.json()["ref_count"] == num_concurrent

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_concurrent_uploads_to_different_packages(
        self, integration_client, test_project, unique_test_id, base_url
    ):
        """Test concurrent uploads to different packages."""
        project = test_project
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        num_packages = 3
        package_names = []

        # Create multiple packages
        for i in range(num_packages):
            pkg_name = f"pkg-{unique_test_id}-{i}"
            response = integration_client.post(
                f"/api/v1/project/{project}/packages",
                json={"name": pkg_name, "description": f"Package {i}"},
            )
            assert response.status_code == 200
            package_names.append(pkg_name)

        files_data = [generate_content_with_hash(1024, seed=300 + i) for i in range(num_packages)]

        results = []
        errors = []

        def upload_worker(idx, package, content, expected_hash):
            attempt(
                errors,
                f"Worker {idx}",
                lambda: upload(
                    base_url,
                    api_key,
                    project,
                    package,
                    content,
                    filename=f"file-{idx}.bin",
                    tag="latest",
                ),
                lambda response: results.append((package, response.json(), expected_hash)),
            )

        run_concurrently(
            num_packages,
            [
                lambda i=i, c=content, h=hash: upload_worker(i, package_names[i], c, h)
                for i, (content, hash) in enumerate(files_data)
            ],
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_packages


class TestConcurrentDownloads:
    """Tests for concurrent download operations."""

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_2_concurrent_downloads_same_artifact(self, integration_client, test_package, base_url):
        """Test 2 concurrent downloads of same artifact."""
        project, package = test_package
        content, _expected_hash = generate_content_with_hash(2048, seed=400)

        # Upload first
        upload_test_file(integration_client, project, package, content, tag="download-test")

        results, errors = download_same_tag(base_url, project, package, "download-test", 2)

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == 2

        # All downloads should match original
        for _idx, downloaded in results:
            assert downloaded == content

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_5_concurrent_downloads_same_artifact(self, integration_client, test_package, base_url):
        """Test 5 concurrent downloads of same artifact."""
        project, package = test_package
        content, _expected_hash = generate_content_with_hash(4096, seed=500)
        upload_test_file(integration_client, project, package, content, tag="download5-test")

        num_downloads = 5
        results, errors = download_same_tag(
            base_url, project, package, "download5-test", num_downloads
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_downloads

        for _idx, downloaded in results:
            assert downloaded == content

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_10_concurrent_downloads_same_artifact(
        self, integration_client, test_package, base_url
    ):
        """Test 10 concurrent downloads of same artifact."""
        project, package = test_package
        content, _expected_hash = generate_content_with_hash(8192, seed=600)
        upload_test_file(integration_client, project, package, content, tag="download10-test")

        num_downloads = 10
        results, errors = download_same_tag(
            base_url, project, package, "download10-test", num_downloads
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_downloads

        for _idx, downloaded in results:
            assert downloaded == content

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_concurrent_downloads_different_artifacts(
        self, integration_client, test_package, base_url
    ):
        """Test concurrent downloads of different artifacts."""
        project, package = test_package

        # Upload multiple files
        num_files = 5
        uploads = []
        for i in range(num_files):
            content, _expected_hash = generate_content_with_hash(1024, seed=700 + i)
            upload_test_file(
                integration_client, project, package, content, tag=f"multi-download-{i}"
            )
            uploads.append((f"multi-download-{i}", content))

        results = []
        errors = []

        def download_worker(tag, expected_content):
            attempt(
                errors,
                f"Tag {tag}",
                lambda: download(base_url, project, package, tag),
                lambda response: results.append((tag, response.content, expected_content)),
            )

        run_concurrently(
            num_files, [lambda t=tag, c=content: download_worker(t, c) for tag, content in uploads]
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_files

        for tag, downloaded, expected in results:
            assert downloaded == expected, f"Content mismatch for {tag}"


class TestMixedConcurrentOperations:
    """Tests for mixed concurrent upload and download operations."""

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_upload_while_download_in_progress(self, integration_client, test_package, base_url):
        """Test uploading while a download is in progress."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        # Upload initial content
        content1, _hash1 = generate_content_with_hash(10240, seed=800)  # 10KB
        upload_test_file(integration_client, project, package, content1, tag="initial")

        # New content for upload during download
        content2, hash2 = generate_content_with_hash(10240, seed=801)

        results = {"downloads": [], "uploads": []}
        errors = []

        def download_worker():
            attempt(
                errors,
                "Download",
                lambda: download(base_url, project, package, "initial"),
                lambda response: results["downloads"].append(response.content),
            )

        def upload_worker():
            attempt(
                errors,
                "Upload",
                lambda: upload(
                    base_url,
                    api_key,
                    project,
                    package,
                    content2,
                    filename="new.bin",
                    tag="during-download",
                ),
                lambda response: results["uploads"].append(response.json()),
            )

        run_concurrently(2, [download_worker, upload_worker])

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results["downloads"]) == 1
        assert len(results["uploads"]) == 1

        # Verify download got correct content
        assert results["downloads"][0] == content1

        # Verify upload succeeded
        assert results["uploads"][0]["artifact_id"] == hash2

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_multiple_uploads_and_downloads_simultaneously(
        self, integration_client, test_package, base_url
    ):
        """Test multiple uploads and downloads running simultaneously."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        # Pre-upload some files for downloading
        existing_files = []
        for i in range(3):
            content, _hash = generate_content_with_hash(2048, seed=900 + i)
            upload_test_file(integration_client, project, package, content, tag=f"existing-{i}")
            existing_files.append((f"existing-{i}", content))

        # New files for uploading
        new_files = [generate_content_with_hash(2048, seed=910 + i) for i in range(3)]

        results = {"downloads": [], "uploads": []}
        errors = []

        def download_worker(tag, expected):
            attempt(
                errors,
                f"Download {tag}",
                lambda: download(base_url, project, package, tag),
                lambda response: results["downloads"].append((tag, response.content, expected)),
            )

        def upload_worker(idx, content, expected_hash):
            attempt(
                errors,
                f"Upload {idx}",
                lambda: upload(
                    base_url,
                    api_key,
                    project,
                    package,
                    content,
                    filename=f"new-{idx}.bin",
                    tag=f"new-{idx}",
                ),
                lambda response: results["uploads"].append((idx, response.json(), expected_hash)),
            )

        # Submit downloads, then uploads
        jobs = [lambda t=tag, c=content: download_worker(t, c) for tag, content in existing_files]
        jobs += [
            lambda i=i, c=content, h=hash: upload_worker(i, c, h)
            for i, (content, hash) in enumerate(new_files)
        ]
        run_concurrently(6, jobs)

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results["downloads"]) == 3
        assert len(results["uploads"]) == 3

        # Verify downloads
        for tag, downloaded, expected in results["downloads"]:
            assert downloaded == expected, f"Download mismatch for {tag}"

        # Verify uploads
        for _idx, result, expected_hash in results["uploads"]:
            assert result["artifact_id"] == expected_hash

    @pytest.mark.integration
    @pytest.mark.concurrent
    def test_no_data_corruption_under_concurrency(self, integration_client, test_package, base_url):
        """Test that no data corruption occurs under concurrent operations."""
        project, package = test_package
        api_key = get_api_key(integration_client)
        assert api_key, "Failed to create API key"

        # Create content with recognizable patterns
        num_files = 5
        files_data = []
        for i in range(num_files):
            # Each file has unique repeating pattern for easy corruption detection
            pattern = bytes([i] * 256)
            content = pattern * 40  # 10KB each
            hash = compute_sha256(content)
            files_data.append((content, hash))

        results = []
        errors = []

        def upload_and_verify(idx, content, expected_hash):
            uploaded = []
            attempt(
                errors,
                f"Upload {idx}",
                lambda: upload(
                    base_url,
                    api_key,
                    project,
                    package,
                    content,
                    filename=f"pattern-{idx}.bin",
                    tag=f"pattern-{idx}",
                ),
                lambda response: uploaded.append(response.json()),
            )
            if not uploaded:
                return
            if uploaded[0]["artifact_id"] != expected_hash:
                errors.append(f"Upload {idx}: Hash mismatch")
                return

            # Immediately download and verify
            downloaded = []
            attempt(
                errors,
                f"Download {idx}",
                lambda: download(base_url, project, package, f"pattern-{idx}"),
                lambda response: downloaded.append(response.content),
            )
            if not downloaded:
                return
            if downloaded[0] != content:
                errors.append(f"Worker {idx}: DATA CORRUPTION DETECTED")
                return

            # Verify the downloaded content hash
            if compute_sha256(downloaded[0]) != expected_hash:
                errors.append(f"Worker {idx}: Hash verification failed")
                return

            results.append(idx)

        run_concurrently(
            num_files,
            [
                lambda i=i, c=content, h=hash: upload_and_verify(i, c, h)
                for i, (content, hash) in enumerate(files_data)
            ],
        )

        assert len(errors) == 0, f"Errors: {errors}"
        assert len(results) == num_files
