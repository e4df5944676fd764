"""What the catalogue routers share: the URL prefix, the callers' permissions, attachment storage."""

from typing import Annotated

from fastapi import Depends, Request

from catalog.storage import AttachmentStorage, storage_from_settings
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission

PREFIX = "/api/v1/catalog"
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.CATALOG_WRITE))]
OfferManager = Annotated[Principal, Depends(requires(Permission.OFFERS_MANAGE))]


def attachment_storage(request: Request) -> AttachmentStorage:
    """The store ``TRADELOOM_STORAGE_URL`` names, made once per app (an S3 client keeps its connections)."""
    state = request.app.state
    if getattr(state, "attachment_storage", None) is None:
        state.attachment_storage = storage_from_settings(state.settings)
    return state.attachment_storage


Storage = Annotated[AttachmentStorage, Depends(attachment_storage)]
