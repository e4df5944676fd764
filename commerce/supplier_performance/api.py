"""Supplier performance API: a supplier's scorecard, the buyer's supplier list and its SRM export, reviews."""

import uuid
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request, Response

from commerce.supplier_performance import export, reviews, schemas, service
from commerce.supplier_performance.cache import cached
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.db import utcnow
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1", tags=["supplier performance"], route_class=TransactionalRoute)
Buyer = Annotated[Principal, Depends(requires(Permission.ORDER_CREATE))]


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@router.get("/suppliers/{supplier_org_id}/scorecard", response_model=schemas.ScorecardOut)
async def scorecard(supplier_org_id: uuid.UUID, request: Request, principal: CurrentPrincipal,
                    session: DbSession) -> Response:
    """The supplier's rolling 12-month scorecard: platform-wide, from your own facts, trend and reviews."""
    today = utcnow().date()

    async def build() -> str:
        card = await service.scorecard(session, actor=principal.actor, supplier_org_id=supplier_org_id, as_of=today)
        return schemas.scorecard_out(card).model_dump_json()

    body = await cached(getattr(request.app.state, "redis", None), supplier_org_id=supplier_org_id,
                        parts=("card", principal.org_id, supplier_org_id, today), build=build)
    return Response(body, media_type="application/json")


@router.get("/suppliers/scorecards")
async def scorecards(principal: Buyer, session: DbSession) -> list[schemas.ScorecardRowOut]:
    """Every supplier your organization has traded with, scored from your own facts, best first."""
    rows = await service.buyer_scorecards(session, actor=principal.actor, as_of=utcnow().date())
    return [schemas.row_out(row) for row in rows]


@router.get("/suppliers/scorecards/export")
async def scorecards_export(principal: Buyer, session: DbSession,
                            format: ExportFormat = ExportFormat.CSV) -> Response:
    """The supplier list as a file for SRM systems: ``format=csv`` (UTF-8) or ``format=xlsx``."""
    today = utcnow().date()
    rows = await service.buyer_scorecards(session, actor=principal.actor, as_of=today)
    content, media_type = ((export.to_csv(rows), export.CSV_MEDIA_TYPE) if format is ExportFormat.CSV
                           else (export.to_xlsx(rows), export.XLSX_MEDIA_TYPE))
    filename = f"supplier-scorecards-{today.isoformat()}.{format.value}"
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/supplier-reviews", status_code=201)
async def post_review(body: schemas.ReviewIn, principal: Buyer, session: DbSession,
                      _key: Idempotent) -> schemas.ReviewOut:
    """Rate the supplier of a received or closed order of yours: 1–5 stars and a comment, once per order."""
    review = await reviews.post_review(session, actor=principal.actor, order_id=body.order_id, stars=body.stars,
                                       comment=body.comment)
    return schemas.ReviewOut.model_validate(review)
