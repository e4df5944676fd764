"""Attachment stores for the catalogue tests: the data-dir folder and a local S3-compatible server.

The S3 side is moto's server (``ThreadedMotoServer``): a local HTTP server speaking the S3 REST protocol,
driven by the real boto3 client over a real socket. No MinIO binary can be installed here; see docs/catalog.md.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from catalog.storage import AttachmentStorage, LocalAttachmentStorage
from catalog.storage_s3 import S3AttachmentStorage

S3_KEYS = {"access_key_id": "tradeloom-test", "secret_access_key": "tradeloom-test-secret"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{server._server.server_port}"  # type: ignore[union-attr]
    server.stop()


def make_s3_storage(endpoint: str, *, presign_seconds: int | None = None) -> S3AttachmentStorage:
    """A fresh bucket on the local S3 server, so tests never see each other's objects."""
    bucket = f"tl-{uuid.uuid4().hex[:20]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=S3_KEYS["access_key_id"],
                 aws_secret_access_key=S3_KEYS["secret_access_key"]).create_bucket(Bucket=bucket)
    return S3AttachmentStorage(bucket=bucket, prefix="attachments", endpoint_url=endpoint,
                               presign_seconds=presign_seconds, **S3_KEYS)


@pytest.fixture(params=["local", "s3"])
def attachment_store(request: pytest.FixtureRequest, tmp_path: Path) -> AttachmentStorage:
    """Each attachment test runs against both backends."""
    if request.param == "local":
        return LocalAttachmentStorage(tmp_path / "attachments")
    return make_s3_storage(request.getfixturevalue("s3_endpoint"))
