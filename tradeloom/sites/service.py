"""Site operations for the caller's organization (RLS confines every query to it)."""

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.errors import NotFound
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor
from tradeloom.sites.models import Site
from tradeloom.sites.schemas import SiteCreate, SiteUpdate


async def create_site(session: AsyncSession, *, actor: Actor, fields: SiteCreate) -> Site:
    """Register a plant, warehouse or office of the actor's organization."""
    site = Site(org_id=actor.org_id, **fields.model_dump())
    session.add(site)
    await flush_or_conflict(session, f"Site code {fields.code} is already used.", "site_code_taken")
    await _record(session, actor, "site.created", site)
    return site


async def get_site(session: AsyncSession, *, site_id: uuid.UUID) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.", code="site_not_found")
    return site


async def list_sites(
    session: AsyncSession, *, limit: int, cursor: str | None, active_only: bool = False
) -> tuple[list[Site], str | None]:
    """Sites ordered by code, one keyset page at a time."""
    query = select(Site).order_by(Site.code).limit(limit + 1)
    if cursor:
        (after_code,) = decode_cursor(cursor, arity=1)
        query = query.where(Site.code > str(after_code))
    if active_only:
        query = query.where(Site.is_active)
    sites = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(sites[limit - 1].code) if len(sites) > limit else None
    return sites[:limit], next_cursor


async def update_site(
    session: AsyncSession, *, actor: Actor, site_id: uuid.UUID, expected_version: int, changes: SiteUpdate
) -> Site:
    """Change the fields sent, if nobody changed the site since the caller read it."""
    site = await get_site(session, site_id=site_id)
    check_version(site.version, expected_version)
    for field, value in changes.model_dump(exclude_unset=True).items():
        setattr(site, field, value)
    await session.flush()
    await _record(session, actor, "site.updated", site, details=changes.model_dump(exclude_unset=True, mode="json"))
    return site


async def _record(session: AsyncSession, actor: Actor, topic: str, site: Site, details: dict | None = None) -> None:
    payload = {"site_id": str(site.id), "code": site.code, "version": site.version}
    await emit(session, org_id=site.org_id, topic=topic, payload=payload)
    await record_audit(session, actor=actor, action=topic, object_type="site", object_id=site.id,
                       details=details or payload)
