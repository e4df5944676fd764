"""``/api/v1/catalog``: merges, the duplicate review queue, and the quality report."""

import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Query

from catalog.governance import dedupe, merge, quality
from catalog.governance.schemas import (
    CandidateOut,
    CandidatePage,
    MaterialBrief,
    MergeIn,
    MergeOut,
    QualityReportOut,
    ScanQueued,
)
from tradeloom.auth import Principal, requires
from tradeloom.db import utcnow
from tradeloom.errors import Forbidden
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.pagination import Cursor, PageSize
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/catalog", tags=["catalog governance"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
Writer = Annotated[Principal, Depends(requires(Permission.CATALOG_WRITE))]
Operator = Annotated[Principal, Depends(requires(Permission.PLATFORM_MANAGE))]


class Owner(StrEnum):
    MINE = "mine"
    ALL = "all"


class CandidateStatus(StrEnum):
    OPEN = "open"
    MERGED = "merged"
    DISMISSED = "dismissed"


@router.post("/merges")
async def merge_materials(body: MergeIn, principal: Writer, session: DbSession, _key: Idempotent) -> MergeOut:
    """Merge two materials: the retired code redirects to the survivor; offers and price lines move."""
    result = await merge.merge_materials(
        session, actor=principal.actor, platform_admin=principal.is_platform_admin,
        survivor_code=body.survivor_code, retired_code=body.retired_code,
    )
    return MergeOut.model_validate(result.facts())


@router.get("/duplicates")
async def list_duplicates(
    principal: Reader, session: DbSession, limit: PageSize = 50, cursor: Cursor = None,
    status: CandidateStatus = CandidateStatus.OPEN,
    owner: Annotated[Owner, Query(description="mine: pairs touching your materials")] = Owner.ALL,
) -> CandidatePage:
    """Likely duplicate pairs, best score first (every member may read the queue)."""
    views, next_cursor = await dedupe.list_candidates(
        session, status=status.value, mine_only_for=principal.org_id if owner is Owner.MINE else None,
        limit=limit, cursor=cursor,
    )
    items = [CandidateOut.model_validate(view.candidate).model_copy(update={
        "first": MaterialBrief.model_validate(view.first), "second": MaterialBrief.model_validate(view.second)})
        for view in views]
    return CandidatePage(items=items, next_cursor=next_cursor)


@router.post("/duplicates/{candidate_id}/dismiss")
async def dismiss_duplicate(candidate_id: uuid.UUID, principal: Writer, session: DbSession,
                            _key: Idempotent) -> CandidateOut:
    """Decide that a pair is not one material (owner of either material, or a platform admin)."""
    return CandidateOut.model_validate(
        await dedupe.dismiss_candidate(session, actor=principal.actor, candidate_id=candidate_id))


@router.post("/duplicates/scan", status_code=202)
async def scan_duplicates(principal: Operator, session: DbSession, _key: Idempotent) -> ScanQueued:
    """Queue a duplicate scan of the whole library (platform operators)."""
    await dedupe.request_scan(session, actor=principal.actor)
    return ScanQueued()


@router.get("/quality")
async def quality_report(
    principal: Reader, session: DbSession, owner: Annotated[Owner, Query()] = Owner.MINE,
) -> QualityReportOut:
    """Quality score distribution and the worst materials with their reasons (``all``: platform admins)."""
    if owner is Owner.ALL and not principal.is_platform_admin:
        raise Forbidden("Only platform admins see the whole library's quality.", code="catalog.quality_all_forbidden")
    report = await quality.quality_report(
        session, owner_org_id=principal.org_id if owner is Owner.MINE else None, now=utcnow())
    return QualityReportOut(owner=owner.value, scored=report.scored, unscored=report.unscored,
                            average=report.average, buckets=report.buckets, worst=report.worst)


@router.post("/quality/scan", status_code=202)
async def scan_quality(principal: Operator, session: DbSession, _key: Idempotent) -> ScanQueued:
    """Queue a new scoring of every live material (platform operators)."""
    await quality.request_scoring(session, actor=principal.actor)
    return ScanQueued()
