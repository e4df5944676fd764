"""``/api/v1/sites``: the caller's plants, warehouses and offices."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.sites import service
from tradeloom.sites.schemas import SiteCreate, SiteOut, SitePage, SiteUpdate
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/sites", tags=["sites"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.SITES_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.SITES_WRITE))]


@router.post("", status_code=201)
async def create_site(
    body: SiteCreate, principal: Writer, session: DbSession, response: Response, _key: Idempotent
) -> SiteOut:
    """Register a site of your organization."""
    site = await service.create_site(session, actor=principal.actor, fields=body)
    set_etag(response, site.version)
    response.headers["Location"] = f"{router.prefix}/{site.id}"
    return SiteOut.model_validate(site)


@router.get("")
async def list_sites(
    principal: Reader, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    active: Annotated[bool, Query(description="only active sites")] = False,
) -> SitePage:
    """Your organization's sites, ordered by code."""
    sites, next_cursor = await service.list_sites(session, limit=limit, cursor=cursor, active_only=active)
    return SitePage(items=[SiteOut.model_validate(s) for s in sites], next_cursor=next_cursor)


@router.get("/{site_id}")
async def get_site(site_id: uuid.UUID, principal: Reader, session: DbSession, response: Response) -> SiteOut:
    """One site, with its version as ETag."""
    site = await service.get_site(session, site_id=site_id)
    set_etag(response, site.version)
    return SiteOut.model_validate(site)


@router.patch("/{site_id}")
async def update_site(
    site_id: uuid.UUID, body: SiteUpdate, principal: Writer, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> SiteOut:
    """Change a site; send the ETag you read as If-Match (412 if it changed since)."""
    site = await service.update_site(
        session, actor=principal.actor, site_id=site_id, expected_version=expected_version, changes=body
    )
    set_etag(response, site.version)
    return SiteOut.model_validate(site)
