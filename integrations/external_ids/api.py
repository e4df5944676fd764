"""``/api/v1/external-ids``: read the mappings between other systems' keys and our objects."""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from integrations.external_ids import service
from integrations.external_ids.schemas import ExternalIdOut, ExternalIdPage
from integrations.external_ids.service import ObjectType
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/external-ids", tags=["external ids"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CHANGES_READ))]
SourceSystem = Annotated[str, Query(min_length=1, max_length=40)]


@router.get("/resolve")
async def resolve(source_system: SourceSystem, object_type: ObjectType,
                  external_id: Annotated[str, Query(min_length=1, max_length=120)],
                  principal: Reader, session: DbSession) -> ExternalIdOut:
    """Our object for your key; 404 ``external_id_not_found`` when it was never synced."""
    return ExternalIdOut.model_validate(await service.resolve(
        session, source_system=source_system, object_type=object_type, external_id=external_id))


@router.get("")
async def list_external_ids(
    principal: Reader, session: DbSession, source_system: Annotated[str | None, Query(max_length=40)] = None,
    object_type: ObjectType | None = None, object_id: uuid.UUID | None = None, after: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ExternalIdPage:
    """Your mappings, filtered by system, object type or our object id; page on with ``after=next_after``."""
    links = await service.list_links(session, source_system=source_system, object_type=object_type,
                                     object_id=object_id, after=after, limit=limit)
    return ExternalIdPage(items=[ExternalIdOut.model_validate(link) for link in links],
                          next_after=links[-1].id if len(links) == limit else None)
