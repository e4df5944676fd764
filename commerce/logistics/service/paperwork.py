"""The shipment's papers: packing list, delivery note (PDF) and the QR label sheet of all its identifiers."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import materials_by_id
from commerce.logistics.documents import DocumentHeader, table_pdf
from commerce.logistics.errors import ShipmentNotFound
from commerce.logistics.service.queries import ShipmentView, shipment_view
from commerce.logistics.service.traceability import shipment_labels
from tradeloom.identity.models import Organization


async def _header(session: AsyncSession, view: ShipmentView, title: str) -> DocumentHeader:
    shipment = view.shipment
    supplier = await session.get(Organization, shipment.supplier_org_id)
    buyer = await session.get(Organization, shipment.buyer_org_id)
    return DocumentHeader(title=title, number=shipment.number, facts=[
        ("Order 订单", shipment.order_number),
        ("Shipper 发货方", supplier.name_zh if supplier else ""),
        ("Consignee 收货方", buyer.name_zh if buyer else ""),
        ("Tracking 运单号", shipment.tracking_number or "—"),
        ("Gross weight 毛重 kg", str(shipment.gross_weight_kg or "—")),
    ])


async def packing_list(session: AsyncSession, *, shipment_id: uuid.UUID) -> bytes:
    """Every item: which package (and pallet) it is in, material, batch, serial, quantity, identifier."""
    view = await shipment_view(session, shipment_id=shipment_id)
    lines = {line.id: line for line in view.lines}
    packages = {package.id: package for package in view.packages}
    rows = []
    for item in view.items:
        package = packages.get(item.package_id) if item.package_id else None
        pallet = packages.get(package.parent_id) if package and package.parent_id else None
        line = lines[item.shipment_line_id]
        rows.append([pallet.label if pallet else "", package.label if package else "", line.material_code,
                     item.batch, item.serial, f"{item.quantity.normalize():f} {line.unit}",
                     item.identifier_handle or ""])
    columns = [("Pallet 托盘", 22), ("Package 包裹", 22), ("Material 物料", 28), ("Batch 批次", 22),
               ("Serial 序列号", 22), ("Qty 数量", 20), ("Identifier 标识", 40)]
    return table_pdf(await _header(session, view, "Packing list 装箱单"), columns, rows)


async def delivery_note(session: AsyncSession, *, shipment_id: uuid.UUID) -> bytes:
    """What is delivered against which order line, with room for the receiver's signature."""
    view = await shipment_view(session, shipment_id=shipment_id)
    materials = await materials_by_id(session, material_ids={line.material_id for line in view.lines})
    rows = [[str(line.line_no), line.material_code, materials[line.material_id].name_zh,
             f"{line.quantity.normalize():f}", line.unit] for line in view.lines]
    columns = [("#", 10), ("Material 物料", 30), ("Description 名称", 80), ("Qty 数量", 24), ("Unit 单位", 20)]
    return table_pdf(await _header(session, view, "Delivery note 送货单"), columns, rows,
                     footer=["Received in good order 货物已收妥:",
                             "Signature 签收人 ____________    Date 日期 __________"])


async def label_sheet(session: AsyncSession, *, shipment_id: uuid.UUID, base_url: str) -> bytes:
    """QR labels for the shipment's pallets, packages, batches and serials (the supplier's identifiers)."""
    view = await shipment_view(session, shipment_id=shipment_id)
    ids = [p.identifier_id for p in view.packages if p.identifier_id] + \
          [i.identifier_id for i in view.items if i.identifier_id]
    if not ids:
        raise ShipmentNotFound("This shipment has no labels.", code="shipment_without_labels")
    return await shipment_labels(session, identifier_ids=ids, base_url=base_url)
