"""What the catalogue routers share: the URL prefix, the callers' permissions, attachment storage."""

from typing import Annotated

from fastapi import Depends, Request

from catalog.storage import AttachmentStorage
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission

PREFIX = "/api/v1/catalog"
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.CATALOG_WRITE))]
OfferManager = Annotated[Principal, Depends(requires(Permission.OFFERS_MANAGE))]


def attachment_storage(request: Request) -> AttachmentStorage:
    """The store ``TRADELOOM_STORAGE_URL`` names, opened once at start (``catalog.pages.install``)."""
    storage: AttachmentStorage = request.app.state.attachment_storage
    return storage


Storage = Annotated[AttachmentStorage, Depends(attachment_storage)]
