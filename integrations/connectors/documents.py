"""Our documents as plain facts for a push mapping to read: the purchase order, the invoice and the goods receipt,
with the keys their system already knows (supplier, materials, the order) from the external ids.

Amounts and quantities are strings of plain decimals, dates ISO dates: the mapping's transforms take it from
there. ``*_ref`` fields are their keys in the connector's source system (None when never synced).
"""

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import GoodsReceipt, GoodsReceiptLine
from commerce.orders.models import OrderLine
from commerce.orders.service.queries import order_detail
from commerce.settlement.invoices import invoice_lines, load_invoice
from integrations.connectors.mapping import PushKind
from integrations.external_ids.service import ObjectType, their_ids
from tradeloom.errors import NotFound
from tradeloom.identity.service import get_organization
from tradeloom.sites.models import Site


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


async def _refs(session: AsyncSession, source: str, object_type: ObjectType,
                ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    return await their_ids(session, source_system=source, object_type=object_type, object_ids=set(ids))


async def purchase_order_facts(session: AsyncSession, *, order_id: uuid.UUID, source_system: str) -> dict[str, Any]:
    """A purchase order with its lines; the supplier and materials by their keys where synced."""
    detail = await order_detail(session, order_id=order_id)
    order = detail.order
    supplier = await get_organization(session, order.supplier_org_id)
    site = await session.get(Site, order.delivery_site_id)
    suppliers = await _refs(session, source_system, ObjectType.ORGANIZATION, [order.supplier_org_id])
    materials = await _refs(session, source_system, ObjectType.MATERIAL, (line.material_id for line in detail.lines))
    return {
        "id": str(order.id), "number": order.number, "status": order.status, "currency": order.currency,
        "reference": order.reference, "payment_terms": order.payment_terms, "cost_centre": order.cost_centre,
        "created_date": order.created_at.date().isoformat(), "supplier_ref": suppliers.get(order.supplier_org_id),
        "supplier_uscc": supplier.uscc, "supplier_name": supplier.name_zh,
        "delivery_site_code": site.code if site else None, "net_total": _text(order.net_total),
        "tax_total": _text(order.tax_total), "gross_total": _text(order.gross_total),
        "lines": [{
            "line_no": line.line_no, "item_no": str(line.line_no * 10), "material_code": line.material_code,
            "delivery_site_code": site.code if site else None, "currency": order.currency,
            "material_ref": materials.get(line.material_id), "quantity": _text(line.quantity), "unit": line.unit,
            "unit_price": _text(line.unit_price), "tax_rate": line.tax_rate, "net": _text(line.net),
            "requested_date": line.requested_date.isoformat() if line.requested_date else None,
            "confirmed_quantity": _text(line.confirmed_quantity),
            "confirmed_date": line.confirmed_date.isoformat() if line.confirmed_date else None,
        } for line in detail.lines],
    }


async def invoice_facts(session: AsyncSession, *, invoice_id: uuid.UUID, source_system: str) -> dict[str, Any]:
    """An invoice (or note) with its lines; the orders it is for by their keys where pushed or pulled before."""
    invoice = await load_invoice(session, invoice_id)
    rows = await invoice_lines(session, invoice_id)
    suppliers = await _refs(session, source_system, ObjectType.ORGANIZATION, [invoice.supplier_org_id])
    orders = await _refs(session, source_system, ObjectType.PURCHASE_ORDER, (row.order_id for row in rows))
    line_numbers = dict((await session.execute(select(OrderLine.id, OrderLine.line_no).where(
        OrderLine.id.in_([row.order_line_id for row in rows])))).all())
    return {
        "id": str(invoice.id), "kind": invoice.kind, "fapiao_number": invoice.fapiao_number,
        "fapiao_type": invoice.fapiao_type, "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(), "currency": invoice.currency,
        "supplier_ref": suppliers.get(invoice.supplier_org_id), "supplier_uscc": invoice.seller_uscc,
        "net_total": _text(invoice.net_total), "tax_total": _text(invoice.tax_total),
        "gross_total": _text(invoice.gross_total),
        "lines": [{
            "line_no": row.line_no, "item_no": str(row.line_no * 10), "order_ref": orders.get(row.order_id),
            "order_item_no": str(line_numbers[row.order_line_id] * 10), "material_code": row.material_code,
            "currency": invoice.currency,
            "quantity": _text(row.quantity), "unit": row.unit, "unit_price": _text(row.unit_price),
            "tax_rate": row.tax_rate, "net": _text(row.net), "tax": _text(row.tax),
        } for row in rows],
    }


async def goods_receipt_facts(session: AsyncSession, *, receipt_id: uuid.UUID, source_system: str) -> dict[str, Any]:
    """A goods receipt with its lines (accepted and rejected per order line and batch); the order by their key."""
    receipt = await session.get(GoodsReceipt, receipt_id)
    if receipt is None:
        raise NotFound("No such goods receipt.", code="goods_receipt_not_found")
    order = (await order_detail(session, order_id=receipt.order_id)).order
    site = await session.get(Site, order.delivery_site_id)
    rows = list((await session.scalars(select(GoodsReceiptLine).where(GoodsReceiptLine.receipt_id == receipt_id)
                                       .order_by(GoodsReceiptLine.id))).all())
    orders = await _refs(session, source_system, ObjectType.PURCHASE_ORDER, [receipt.order_id])
    materials = await _refs(session, source_system, ObjectType.MATERIAL, (row.material_id for row in rows))
    line_numbers = dict((await session.execute(select(OrderLine.id, OrderLine.line_no).where(
        OrderLine.id.in_([row.order_line_id for row in rows])))).all())
    return {
        "id": str(receipt.id), "number": receipt.number, "inspection": receipt.inspection,
        "received_date": receipt.received_at.date().isoformat(), "order_number": order.number,
        "order_ref": orders.get(receipt.order_id),
        "lines": [{
            "order_ref": orders.get(receipt.order_id), "order_item_no": str(line_numbers[row.order_line_id] * 10),
            "material_ref": materials.get(row.material_id), "batch": row.batch, "accepted": _text(row.accepted),
            "rejected": _text(row.rejected), "unit": row.unit, "delivery_site_code": site.code if site else None,
        } for row in rows],
    }


async def document_facts(session: AsyncSession, *, kind: PushKind, object_id: uuid.UUID,
                         source_system: str) -> dict[str, Any]:
    if kind == PushKind.PURCHASE_ORDER:
        return await purchase_order_facts(session, order_id=object_id, source_system=source_system)
    if kind == PushKind.GOODS_RECEIPT:
        return await goods_receipt_facts(session, receipt_id=object_id, source_system=source_system)
    return await invoice_facts(session, invoice_id=object_id, source_system=source_system)
