"""The tax-rate table and class defaults: looked up by invoices (amounts, the "wrong tax rate for the material
class" check) and managed by the platform operator.

Amounts keep the documented rounding rule: the stored fraction is exact (``NUMERIC(7,6)``) and the line's tax is
``round_half_up(net × rate, 0.01)`` as before.
"""

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import MaterialClass
from commerce.settlement.tax_rates.models import ClassTaxRate, TaxRateRow
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Invalid, NotFound

COUNTRY = "CN"
RATE_PLACES = Decimal("0.000001")  # as stored (NUMERIC(7,6)); a percentage with 4 places fits exactly


async def list_rates(session: AsyncSession, *, country: str | None = None) -> list[TaxRateRow]:
    query = select(TaxRateRow).order_by(TaxRateRow.country, TaxRateRow.rate.desc(), TaxRateRow.code,
                                        TaxRateRow.valid_from)
    if country:
        query = query.where(TaxRateRow.country == country)
    return list(await session.scalars(query))


async def rate_on(session: AsyncSession, *, code: str, on: dt.date, country: str = COUNTRY) -> TaxRateRow | None:
    """The rate the code stands for on that day (None: no such rate then)."""
    return await session.scalar(select(TaxRateRow).where(
        TaxRateRow.country == country, TaxRateRow.code == code, TaxRateRow.valid_from <= on,
        or_(TaxRateRow.valid_to.is_(None), TaxRateRow.valid_to >= on)).order_by(TaxRateRow.valid_from.desc()).limit(1))


async def fraction_on(session: AsyncSession, *, code: str, on: dt.date, country: str = COUNTRY) -> Decimal:
    """The rate as a fraction (0.13), or 422 ``tax_rate_unknown`` when the code is not valid that day."""
    row = await rate_on(session, code=code, on=on, country=country)
    if row is None:
        raise Invalid(f"Tax rate {code} is not a rate in force in {country} on {on}.", code="tax_rate_unknown")
    return row.rate


async def add_rate(session: AsyncSession, *, actor: Actor, country: str, code: str, rate: Decimal, name_zh: str,
                   name_en: str, valid_from: dt.date, valid_to: dt.date | None) -> TaxRateRow:
    """A new rate (or a new period of a code); periods of one code may not overlap."""
    if valid_to is not None and valid_to < valid_from:
        raise Invalid("A rate ends on or after the day it starts.", code="tax_rate_period_invalid")
    overlapping = await session.scalar(select(TaxRateRow.id).where(
        TaxRateRow.country == country, TaxRateRow.code == code,
        or_(TaxRateRow.valid_to.is_(None), TaxRateRow.valid_to >= valid_from),
        TaxRateRow.valid_from <= (valid_to or dt.date.max)))
    if overlapping is not None:
        raise Invalid(f"Tax rate {code} already has a period overlapping {valid_from}; end that one first.",
                      code="tax_rate_period_overlaps")
    row = TaxRateRow(country=country, code=code, rate=rate.quantize(RATE_PLACES), name_zh=name_zh, name_en=name_en,
                     valid_from=valid_from, valid_to=valid_to)
    session.add(row)
    await flush_or_conflict(session, f"Tax rate {code} already starts on {valid_from}.", "tax_rate_duplicate")
    await record_audit(session, actor=actor, action="tax_rate.added", object_type="tax_rate", object_id=row.id,
                       details={"country": country, "code": code, "rate": f"{rate:f}"})
    return row


async def end_rate(session: AsyncSession, *, actor: Actor, rate_id: uuid.UUID, valid_to: dt.date) -> TaxRateRow:
    """Close a rate's period (rates are never deleted: invoices issued under them stay explainable)."""
    row = await session.get(TaxRateRow, rate_id)
    if row is None:
        raise NotFound("No such tax rate.", code="tax_rate_not_found")
    if valid_to < row.valid_from:
        raise Invalid("A rate ends on or after the day it starts.", code="tax_rate_period_invalid")
    row.valid_to = valid_to
    await session.flush()
    await record_audit(session, actor=actor, action="tax_rate.ended", object_type="tax_rate", object_id=row.id,
                       details={"valid_to": valid_to.isoformat()})
    return row


async def set_class_rate(session: AsyncSession, *, actor: Actor, class_code: str, tax_rate_code: str,
                         country: str = COUNTRY) -> ClassTaxRate:
    """The material class's default rate (its sub-classes inherit it unless they have their own)."""
    if await session.get(MaterialClass, class_code) is None:
        raise NotFound(f"No material class {class_code}.", code="material_class_not_found")
    if await session.scalar(select(TaxRateRow.id).where(TaxRateRow.country == country,
                                                        TaxRateRow.code == tax_rate_code).limit(1)) is None:
        raise Invalid(f"Tax rate {tax_rate_code} is not in the table for {country}.", code="tax_rate_unknown")
    row = await session.scalar(select(ClassTaxRate).where(ClassTaxRate.class_code == class_code,
                                                          ClassTaxRate.country == country))
    if row is None:
        row = ClassTaxRate(class_code=class_code, country=country, tax_rate_code=tax_rate_code)
        session.add(row)
    else:
        row.tax_rate_code = tax_rate_code
    await session.flush()
    await record_audit(session, actor=actor, action="tax_rate.class_set", object_type="material_class",
                       object_id=class_code, details={"country": country, "tax_rate_code": tax_rate_code})
    return row


async def list_class_rates(session: AsyncSession) -> list[ClassTaxRate]:
    return list(await session.scalars(select(ClassTaxRate).order_by(ClassTaxRate.country, ClassTaxRate.class_code)))


async def class_default(session: AsyncSession, *, class_code: str, country: str = COUNTRY) -> str | None:
    """The default rate code of the class, or of its nearest ancestor that has one (None: no default)."""
    code: str | None = class_code
    for _ in range(16):  # class trees are shallow; the bound guards against a cycle in bad data
        if code is None:
            return None
        mapped = await session.scalar(select(ClassTaxRate.tax_rate_code).where(
            ClassTaxRate.class_code == code, ClassTaxRate.country == country))
        if mapped is not None:
            return mapped
        code = await session.scalar(select(MaterialClass.parent_code).where(MaterialClass.code == code))
    return None
