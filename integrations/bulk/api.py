"""``/api/v1/bulk``: send up to 10,000 materials, offers, price lists, orders or partners; follow the job."""

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response

from integrations.bulk import service
from integrations.bulk.models import BulkJob
from integrations.bulk.records import BulkKind
from integrations.bulk.schemas import BulkJobDetail, BulkJobOut, BulkRequest
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/bulk", tags=["bulk"], route_class=TransactionalRoute)
PERMISSION_BY_KIND = {
    BulkKind.MATERIALS: Permission.CATALOG_WRITE,
    BulkKind.OFFERS: Permission.OFFERS_MANAGE,
    BulkKind.PRICE_LISTS: Permission.OFFERS_MANAGE,
    BulkKind.ORDERS: Permission.ORDER_CREATE,
    BulkKind.PARTNERS: Permission.INTEGRATION_MANAGE,
    BulkKind.STOCK_LEVELS: Permission.STOCK_MANAGE,
    BulkKind.INVOICES: Permission.INVOICE_ISSUE,
    BulkKind.CUSTOMERS: Permission.INTEGRATION_MANAGE,
    BulkKind.CONTACTS: Permission.INTEGRATION_MANAGE,
    BulkKind.QUALIFICATIONS: Permission.RFQ_MANAGE,  # the buyer keeps its suppliers' documents
}
JOBS = f"{router.prefix}/jobs"


def job_url(job: BulkJob) -> str:
    return f"{JOBS}/{job.id}"


@router.post("/{kind}", status_code=202)
async def submit_bulk(kind: BulkKind, body: BulkRequest, principal: CurrentPrincipal, session: DbSession,
                      response: Response, _key: Idempotent) -> BulkJobOut:
    """Queue up to 10,000 records (more ⇒ 413): 202 with the job's URL. Records already synced are skipped."""
    principal.require(PERMISSION_BY_KIND[kind])
    job = await service.request_bulk(session, actor=principal.actor, kind=kind, source_system=body.source_system,
                                     records=body.records)
    response.headers["Location"] = job_url(job)
    return BulkJobOut.model_validate(job).model_copy(update={"url": job_url(job)})


@router.get("/jobs")
async def list_jobs(principal: Annotated[Principal, Depends(requires(Permission.CHANGES_READ))], session: DbSession,
                    limit: Annotated[int, Query(ge=1, le=100)] = 20) -> list[BulkJobOut]:
    """Your organization's latest bulk jobs, newest first."""
    return [BulkJobOut.model_validate(job).model_copy(update={"url": job_url(job)})
            for job in await service.recent_jobs(session, limit=limit)]


@router.get("/jobs/{job_id}")
async def get_job(job_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> BulkJobDetail:
    """Progress counters and, once finished, the result of every record (its index, external id, our id)."""
    job = await service.get_job(session, job_id=job_id)
    principal.require(PERMISSION_BY_KIND[BulkKind(job.kind)])
    return BulkJobDetail.model_validate(job).model_copy(update={"url": job_url(job)})
