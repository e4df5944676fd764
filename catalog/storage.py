"""Where attachment files live. Content-addressed: the key is the file's SHA-256, so storing is idempotent.

``AttachmentStorage`` is the seam, chosen by ``TRADELOOM_STORAGE_URL`` (``storage_from_settings``):
unset ⇒ ``LocalAttachmentStorage``, files under ``<data_dir>/attachments/<sha256>``; ``s3://bucket?…`` ⇒
``catalog.storage_s3.S3AttachmentStorage`` (AWS S3, MinIO, Ceph RGW, OSS, COS). Uploads arrive as a file
object and are read in chunks, never held whole in memory; downloads are chunk iterators, or a presigned
URL when the store can hand one out.
"""

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple, Protocol
from urllib.parse import parse_qs, quote, urlsplit

from tradeloom.errors import NotFound
from tradeloom.settings import Settings

CHUNK_BYTES = 256 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StoredFile(NamedTuple):
    key: str  # the hex SHA-256 of the content
    size_bytes: int


class AttachmentStorage(Protocol):
    """Stores bytes under their SHA-256 and gives them back."""

    async def put(self, content: IO[bytes]) -> StoredFile:
        """Store a seekable file's content (read from its start); returns its key and size."""
        ...

    async def open(self, key: str) -> Iterator[bytes]:
        """The content under ``key`` in chunks; ``NotFound`` (raised here, not while iterating) if missing."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...

    async def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        """A short-lived URL the client may fetch the file from directly; None ⇒ the API proxies it."""
        ...


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition that downloads (never renders inline) under the original, UTF-8 name."""
    return f"attachment; filename*=UTF-8''{quote(filename)}"


def checked_key(key: str) -> str:
    """Keys become file names and object keys: allow nothing but a digest."""
    if not _SHA256.fullmatch(key):
        raise NotFound("No such stored file.", code="catalog.attachment_missing")
    return key


def missing() -> NotFound:
    return NotFound("The stored file is missing.", code="catalog.attachment_missing")


def chunks(content: IO[bytes]) -> Iterator[bytes]:
    """The file from its start, in chunks."""
    content.seek(0)
    while chunk := content.read(CHUNK_BYTES):
        yield chunk


def sha256_of(content: IO[bytes]) -> StoredFile:
    """Hash a seekable file in chunks and rewind it."""
    digest, size = hashlib.sha256(), 0
    for chunk in chunks(content):
        digest.update(chunk)
        size += len(chunk)
    content.seek(0)
    return StoredFile(digest.hexdigest(), size)


def _closing_chunks(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        yield from chunks(file)


class LocalAttachmentStorage:
    """Files in one folder, written atomically (temporary file, then rename), never overwritten."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, content: IO[bytes]) -> StoredFile:
        return await asyncio.to_thread(self._write, content)

    def _write(self, content: IO[bytes]) -> StoredFile:
        """Copy and hash in one pass into a temporary file, then rename it to its digest."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(handle, "wb") as file:
                for chunk in chunks(content):
                    digest.update(chunk)
                    size += len(chunk)
                    file.write(chunk)
            stored = StoredFile(digest.hexdigest(), size)
            os.replace(temporary, self.root / stored.key)  # same bytes if it was already there
            return stored
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def open(self, key: str) -> Iterator[bytes]:
        path = self.root / checked_key(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise missing() from exc
        return _closing_chunks(file)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread((self.root / checked_key(key)).exists)

    async def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        return None


class StorageUrlError(ValueError):
    """A ``TRADELOOM_STORAGE_URL`` that names no store we can use (a configuration error at start-up)."""


def storage_from_settings(settings: Settings) -> AttachmentStorage:
    """The attachment store the settings name."""
    if not settings.storage_url:
        return LocalAttachmentStorage(settings.data_dir / "attachments")
    parts = urlsplit(settings.storage_url)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageUrlError("TRADELOOM_STORAGE_URL must look like s3://bucket?endpoint=https://host")
    from catalog.storage_s3 import S3AttachmentStorage  # boto3 is only loaded when S3 is configured

    options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    secret = settings.storage_secret_access_key
    return S3AttachmentStorage(
        bucket=parts.netloc, prefix=parts.path.strip("/"), endpoint_url=options.get("endpoint"),
        region=options.get("region", "us-east-1"), access_key_id=settings.storage_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        presign_seconds=int(options["presign"]) if options.get("presign", "").isdigit() else None,
    )
