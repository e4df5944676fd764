"""What the catalogue routers share: the URL prefix, the callers' permissions, attachment storage."""

from typing import Annotated

from fastapi import Depends, Request

from catalog.storage import AttachmentStorage, LocalAttachmentStorage
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission

PREFIX = "/api/v1/catalog"
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.CATALOG_WRITE))]
OfferManager = Annotated[Principal, Depends(requires(Permission.OFFERS_MANAGE))]


def attachment_storage(request: Request) -> AttachmentStorage:
    """Files under ``<data_dir>/attachments``; the one place to swap in an S3-compatible store."""
    return LocalAttachmentStorage(request.app.state.settings.data_dir / "attachments")


Storage = Annotated[AttachmentStorage, Depends(attachment_storage)]
