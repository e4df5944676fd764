"""Where attachment files live. Content-addressed: the key is the file's SHA-256, so storing is idempotent.

``AttachmentStorage`` is the seam: the default ``LocalAttachmentStorage`` keeps files under
``<data_dir>/attachments/<sha256>``. An S3-compatible store (MinIO, Ceph RGW, OSS, COS) implements the same
three methods with ``PUT/GET/HEAD`` on ``<bucket>/attachments/<sha256>``; see docs/catalog.md.
"""

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from tradeloom.errors import NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class AttachmentStorage(Protocol):
    """Stores bytes under their SHA-256 and gives them back."""

    async def put(self, content: bytes) -> str:
        """Store the content; returns its storage key (the hex SHA-256)."""
        ...

    async def get(self, key: str) -> bytes:
        """The content stored under ``key``; ``NotFound`` when it is missing."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class LocalAttachmentStorage:
    """Files in one folder, written atomically (temporary file, then rename), never overwritten."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _SHA256.fullmatch(key):  # keys become file names: allow nothing but a digest
            raise NotFound("No such stored file.", code="catalog.attachment_missing")
        return self.root / key

    async def put(self, content: bytes) -> str:
        key = sha256_hex(content)
        await asyncio.to_thread(self._write, key, content)
        return key

    def _write(self, key: str, content: bytes) -> None:
        target = self._path(key)
        if target.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFound("The stored file is missing.", code="catalog.attachment_missing") from exc

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.exists)
