"""The attachment store contract, run against the data-dir folder and a local S3-compatible server."""

import hashlib
import io
import tempfile
from pathlib import Path

import httpx
import pytest

from catalog.storage import AttachmentStorage, LocalAttachmentStorage, StorageUrlError, storage_from_settings
from catalog.storage_s3 import S3AttachmentStorage
from tests.catalog.conftest import make_s3_storage
from tradeloom.errors import NotFound
from tradeloom.settings import Settings


def _spooled(content: bytes) -> tempfile.SpooledTemporaryFile[bytes]:
    """What an upload arrives as (Starlette's UploadFile.file)."""
    file = tempfile.SpooledTemporaryFile(max_size=1024)  # noqa: SIM115 - closed with the test
    file.write(content)
    return file


class TestAttachmentStore:
    async def test_stores_under_the_sha256_and_streams_the_same_bytes_back(
        self, attachment_store: AttachmentStorage
    ) -> None:
        content = bytes(range(256)) * 5000  # 1.28 MB: several chunks, spilled to disk by the spool
        stored = await attachment_store.put(_spooled(content))
        assert stored.key == hashlib.sha256(content).hexdigest()
        assert stored.size_bytes == len(content)
        assert await attachment_store.exists(stored.key)
        assert b"".join(await attachment_store.open(stored.key)) == content

    async def test_storing_the_same_content_twice_is_one_object(self, attachment_store: AttachmentStorage) -> None:
        first = await attachment_store.put(_spooled(b"%PDF-1.7 same"))
        again = await attachment_store.put(io.BytesIO(b"%PDF-1.7 same"))
        assert first == again
        assert b"".join(await attachment_store.open(first.key)) == b"%PDF-1.7 same"

    async def test_missing_and_malformed_keys_are_not_found(self, attachment_store: AttachmentStorage) -> None:
        absent = hashlib.sha256(b"never stored").hexdigest()
        assert not await attachment_store.exists(absent)
        for key in (absent, "../../etc/passwd"):
            with pytest.raises(NotFound) as refused:
                await attachment_store.open(key)
            assert refused.value.code == "catalog.attachment_missing"


class TestPresignedDownloads:
    async def test_a_presigned_url_serves_the_file_with_its_name_and_type(self, s3_endpoint: str) -> None:
        # moto does not verify request signatures, so a tampered URL is not refused here (a real store does).
        store = make_s3_storage(s3_endpoint, presign_seconds=300)
        stored = await store.put(io.BytesIO(b"drawing bytes"))
        url = await store.download_url(stored.key, filename="图纸 A.pdf", content_type="application/pdf")
        assert url is not None and "X-Amz-Signature=" in url
        async with httpx.AsyncClient() as http:
            fetched = await http.get(url)
        assert (fetched.status_code, fetched.content) == (200, b"drawing bytes")
        assert fetched.headers["content-type"] == "application/pdf"
        assert fetched.headers["content-disposition"] == "attachment; filename*=UTF-8''%E5%9B%BE%E7%BA%B8%20A.pdf"

    async def test_without_presigning_the_api_proxies(self, attachment_store: AttachmentStorage) -> None:
        stored = await attachment_store.put(io.BytesIO(b"x"))
        assert await attachment_store.download_url(stored.key, filename="x.txt", content_type="text/plain") is None


class TestStorageFromSettings:
    def test_unset_is_the_data_dir(self, tmp_path: Path) -> None:
        store = storage_from_settings(Settings(data_dir=tmp_path))
        assert isinstance(store, LocalAttachmentStorage) and store.root == tmp_path / "attachments"

    def test_an_s3_url_names_bucket_prefix_endpoint_and_presigning(self, tmp_path: Path) -> None:
        store = storage_from_settings(Settings(
            data_dir=tmp_path, storage_url="s3://specs/tradeloom?endpoint=http://127.0.0.1:9000&presign=600",
            storage_access_key_id="key", storage_secret_access_key="secret"))
        assert isinstance(store, S3AttachmentStorage)
        assert (store.bucket, store.prefix, store.presign_seconds) == ("specs", "tradeloom/", 600)
        assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"

    @pytest.mark.parametrize("url", ["ftp://specs", "s3://", "/var/files"])
    def test_other_urls_are_refused_at_start(self, tmp_path: Path, url: str) -> None:
        with pytest.raises(StorageUrlError):
            storage_from_settings(Settings(data_dir=tmp_path, storage_url=url))
