"""Stock levels and invoices in bulk, each record in a savepoint of its own.

A stock level is applied through ``commerce.logistics``'s ``adjust_stock`` (an adjustment movement for the
difference to what is on the shelf), so the movement log stays the source of truth; an invoice is issued
through ``commerce.settlement``'s ``issue_invoice`` (the three-way match, the journal and ``invoice.issued``
follow as for an invoice entered on the page).
"""

import functools
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import get_material
from commerce.logistics.models import Warehouse, WarehouseLocation
from commerce.logistics.service.stock import adjust_stock, in_base_unit
from commerce.orders.models import OrderLine, PurchaseOrder
from commerce.settlement.invoices import FapiaoDraft, InvoiceLineDraft, issue_invoice
from commerce.settlement.rules import FapiaoType, TaxRate
from integrations.bulk.order_records import material_ids, unknown_material
from integrations.bulk.outcome import Outcomes, Problem, write_one
from integrations.bulk.records import InvoiceRecord, StockLevelRecord
from integrations.external_ids.service import ObjectType, known_ids
from tradeloom.audit import Actor


async def _locations(session: AsyncSession, records: Sequence[tuple[int, StockLevelRecord]]
                     ) -> dict[tuple[str, str], uuid.UUID]:
    """The caller's warehouse locations by (warehouse code, location code); row-level security hides others'."""
    rows = await session.execute(
        select(Warehouse.code, WarehouseLocation.code, WarehouseLocation.id)
        .join(Warehouse, Warehouse.id == WarehouseLocation.warehouse_id)
        .where(Warehouse.code.in_({record.warehouse_code for _, record in records})))
    return {(warehouse, location): location_id for warehouse, location, location_id in rows}


async def _count(session: AsyncSession, actor: Actor, source_system: str, record: StockLevelRecord,
                 material_id: uuid.UUID, location_id: uuid.UUID) -> uuid.UUID:
    material = await get_material(session, material_id=material_id)
    await adjust_stock(session, actor=actor, material_id=material_id, location_id=location_id,
                       counted=in_base_unit(material, record.quantity, record.unit), batch=record.batch,
                       serial=record.serial, reason=f"{source_system} count {record.external_id}")
    return location_id


async def write_stock_records(session: AsyncSession, *, actor: Actor, source_system: str,
                              records: Sequence[tuple[int, StockLevelRecord]], outcomes: Outcomes) -> None:
    """Set every counted level whose material and location are known."""
    materials = await material_ids(session, actor, source_system, [record for _, record in records])
    locations = await _locations(session, records)
    for index, record in records:
        material_id = materials.get(record.material_key)
        location_id = locations.get((record.warehouse_code, record.location_code))
        if material_id is None:
            outcomes.reject(index, unknown_material(record, "/", "stock_material_unknown"))
        if location_id is None:
            outcomes.reject(index, Problem("/location_code", "stock_location_unknown",
                                           f"you have no location {record.location_code} in warehouse "
                                           f"{record.warehouse_code}"))
        if material_id is not None and location_id is not None:
            await write_one(session, outcomes, index, functools.partial(
                _count, session, actor, source_system, record, material_id, location_id))


async def _orders(session: AsyncSession, actor: Actor, source_system: str,
                  records: Sequence[tuple[int, InvoiceRecord]]) -> dict[str, uuid.UUID]:
    """Order ids by ``number:<our number>`` and ``ref:<their key>`` (orders the caller is a party to)."""
    numbers = {record.order_number for _, record in records if record.order_number}
    rows = await session.execute(select(PurchaseOrder.number, PurchaseOrder.id)
                                 .where(PurchaseOrder.number.in_(numbers)))
    by_ref = await known_ids(session, org_id=actor.org_id, source_system=source_system,
                             object_type=ObjectType.PURCHASE_ORDER,
                             external_ids={record.order_ref for _, record in records if record.order_ref})
    return ({f"number:{number}": order_id for number, order_id in rows}
            | {f"ref:{ref}": order_id for ref, order_id in by_ref.items()})


def _order_key(record: InvoiceRecord) -> str:
    return f"number:{record.order_number}" if record.order_number else f"ref:{record.order_ref}"


def _invoice_problems(record: InvoiceRecord, line_ids: dict[int, uuid.UUID]) -> list[Problem]:
    problems = []
    if record.fapiao_type not in FapiaoType._value2member_map_:
        problems.append(Problem("/fapiao_type", "invoice_fapiao_type_unknown",
                                f"{record.fapiao_type} is not a fapiao type ({', '.join(FapiaoType)})"))
    for number, line in enumerate(record.lines):
        if line.order_line_no not in line_ids:
            problems.append(Problem(f"/lines/{number}/order_line_no", "invoice_order_line_unknown",
                                    f"the order has no line {line.order_line_no}"))
        if line.tax_rate not in TaxRate._value2member_map_:
            problems.append(Problem(f"/lines/{number}/tax_rate", "invoice_tax_rate_unknown",
                                    f"{line.tax_rate} is not a VAT rate ({', '.join(TaxRate)})"))
    return problems


async def _issue(session: AsyncSession, actor: Actor, record: InvoiceRecord, order_id: uuid.UUID,
                 line_ids: dict[int, uuid.UUID]) -> uuid.UUID:
    drafts = [InvoiceLineDraft(order_id, line_ids[line.order_line_no], line.quantity, line.unit_price,
                               TaxRate(line.tax_rate)) for line in record.lines]
    fapiao = FapiaoDraft(FapiaoType(record.fapiao_type), record.fapiao_number, record.issue_date)
    return (await issue_invoice(session, actor=actor, fapiao=fapiao, lines=drafts)).id


async def write_invoice_records(session: AsyncSession, *, actor: Actor, source_system: str,
                                records: Sequence[tuple[int, InvoiceRecord]], outcomes: Outcomes) -> None:
    """Issue an invoice for every record whose order and lines are known."""
    orders = await _orders(session, actor, source_system, records)
    for index, record in records:
        order_id = orders.get(_order_key(record))
        if order_id is None:
            field = "order_number" if record.order_number else "order_ref"
            outcomes.reject(index, Problem(f"/{field}", "invoice_order_unknown",
                                           f"no order of yours is known as {getattr(record, field)}"))
            continue
        lines = await session.execute(select(OrderLine.line_no, OrderLine.id).where(OrderLine.order_id == order_id))
        line_ids = {line_no: line_id for line_no, line_id in lines}
        if problems := _invoice_problems(record, line_ids):
            outcomes.rejected[index] = problems
            continue
        await write_one(session, outcomes, index, functools.partial(_issue, session, actor, record, order_id, line_ids))
