"""Tax-rate API: every member reads the table and the class defaults; the platform operator changes them."""

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import Depends

from commerce.settlement.schemas import ClassTaxRateIn, ClassTaxRateOut, TaxRateEndIn, TaxRateIn, TaxRateOut
from commerce.settlement.tax_rates import service
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/settlement/tax-rates", tags=["settlement"], route_class=TransactionalRoute)
Operator = Annotated[Principal, Depends(requires(Permission.PLATFORM_MANAGE))]
HUNDRED = Decimal(100)


@router.get("")
async def list_tax_rates(principal: CurrentPrincipal, session: DbSession,
                         country: str | None = None) -> list[TaxRateOut]:
    """The tax-rate table (every period of every code)."""
    return [TaxRateOut.model_validate(row) for row in await service.list_rates(session, country=country)]


@router.post("", status_code=201)
async def add_tax_rate(body: TaxRateIn, principal: Operator, session: DbSession, _key: Idempotent) -> TaxRateOut:
    """Add a rate, or a new period of a code (periods of one code may not overlap)."""
    row = await service.add_rate(session, actor=principal.actor, country=body.country, code=body.code,
                                 rate=body.rate_pct / HUNDRED, name_zh=body.name_zh, name_en=body.name_en,
                                 valid_from=body.valid_from, valid_to=body.valid_to)
    return TaxRateOut.model_validate(row)


@router.post("/{rate_id}/end")
async def end_tax_rate(rate_id: uuid.UUID, body: TaxRateEndIn, principal: Operator, session: DbSession,
                       _key: Idempotent) -> TaxRateOut:
    """Close a rate's period on ``valid_to`` (rates are never deleted)."""
    return TaxRateOut.model_validate(await service.end_rate(session, actor=principal.actor, rate_id=rate_id,
                                                            valid_to=body.valid_to))


@router.get("/classes")
async def list_class_rates(principal: CurrentPrincipal, session: DbSession) -> list[ClassTaxRateOut]:
    """Material classes' default rates (sub-classes inherit their nearest ancestor's)."""
    return [ClassTaxRateOut.model_validate(row) for row in await service.list_class_rates(session)]


@router.put("/classes/{class_code}")
async def set_class_rate(class_code: str, body: ClassTaxRateIn, principal: Operator,
                         session: DbSession) -> ClassTaxRateOut:
    """Set a material class's default rate: invoices of its materials must use it."""
    row = await service.set_class_rate(session, actor=principal.actor, class_code=class_code,
                                       tax_rate_code=body.tax_rate_code, country=body.country)
    return ClassTaxRateOut.model_validate(row)
