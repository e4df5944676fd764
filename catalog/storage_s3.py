"""Attachments in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, Alibaba OSS, Tencent COS).

boto3 (decision 0005) runs in worker threads, so the event loop never waits on the network. Objects are
``<prefix>/<sha256>``; an upload is hashed first (the key is the digest) and then streamed with boto3's
managed transfer (multipart above 8 MiB), skipped when the object is already there. Downloads are either a
presigned GET URL (``presign=<seconds>`` in the storage URL: the client fetches from the store, with the
file name and type forced by the signature) or proxied in chunks through the API.
"""

import asyncio
from collections.abc import Iterator
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from catalog.storage import CHUNK_BYTES, StoredFile, attachment_disposition, checked_key, missing, sha256_of

_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})


class S3AttachmentStorage:
    """One bucket (and optional key prefix) of an S3-compatible store."""

    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str = "us-east-1", access_key_id: str | None = None,
                 secret_access_key: str | None = None, presign_seconds: int | None = None) -> None:
        self.bucket = bucket
        self.prefix = f"{prefix}/" if prefix else ""
        self.presign_seconds = presign_seconds
        # Path-style addressing: MinIO and most self-hosted stores have no per-bucket DNS names.
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 3, "mode": "standard"}),
        )

    def _object_key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    async def put(self, content: IO[bytes]) -> StoredFile:
        stored = await asyncio.to_thread(sha256_of, content)
        if not await self.exists(stored.key):
            await asyncio.to_thread(
                self.client.upload_fileobj, content, self.bucket, self._object_key(stored.key),
                ExtraArgs={"ContentType": "application/octet-stream", "Metadata": {"sha256": stored.key}},
            )
        return stored

    async def open(self, key: str) -> Iterator[bytes]:
        try:
            found = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                raise missing() from exc
            raise
        body = found["Body"]
        return _closing(body)

    async def exists(self, key: str) -> bool:
        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise
        return True

    async def download_url(self, key: str, *, filename: str, content_type: str) -> str | None:
        if self.presign_seconds is None:
            return None
        params = {
            "Bucket": self.bucket, "Key": self._object_key(key), "ResponseContentType": content_type,
            "ResponseContentDisposition": attachment_disposition(filename),
        }
        url: str = await asyncio.to_thread(self.client.generate_presigned_url, "get_object", Params=params,
                                           ExpiresIn=self.presign_seconds)
        return url


def _closing(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK_BYTES)
