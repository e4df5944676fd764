"""Shipments (advance shipping notices), their papers and tracking, the carriers' webhook, goods receipts."""

import uuid
from typing import Annotated, Any

import orjson
from fastapi import Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from catalog.api.common import Storage
from commerce.logistics.api.stock import traceability_of
from commerce.logistics.models import Shipment
from commerce.logistics.schemas import (
    CarrierEventIn,
    CarrierEventOut,
    ItemOut,
    PackageOut,
    ReceiptCreate,
    ReceiptLineOut,
    ReceiptOut,
    ShipmentCreate,
    ShipmentDetailOut,
    ShipmentLineOut,
    ShipmentOut,
    TrackingEventOut,
    TrackingIn,
)
from commerce.logistics.service import dispatch, paperwork, queries, receiving, shipments, tracking
from commerce.logistics.service.receiving import ReceiptDraft, ReceiptLineDraft
from commerce.logistics.service.shipments import ItemDraft, LineDraft, PackageDraft, ShipmentDraft
from commerce.logistics.service.traceability import Traceability
from tradeloom.audit import Actor
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.db import utcnow
from tradeloom.errors import Invalid
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute, Tx

router = PrefixedRouter(prefix="/api/v1/logistics", tags=["logistics: shipments"], route_class=TransactionalRoute)
Shipper = Annotated[Principal, Depends(requires(Permission.SHIPMENT_MANAGE))]
Receiver = Annotated[Principal, Depends(requires(Permission.GOODS_RECEIPT))]
Where = Annotated[Traceability, Depends(traceability_of)]
MAX_WEBHOOK_BYTES = 16_384
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}, "description": "PDF document"}}


def answer(response: Response, shipment: Shipment) -> ShipmentOut:
    set_etag(response, shipment.version)
    return ShipmentOut.model_validate(shipment)


def _draft(body: ShipmentCreate) -> ShipmentDraft:
    return ShipmentDraft(
        order_id=body.order_id, warehouse_id=body.warehouse_id, carrier_code=body.carrier_code,
        tracking_number=body.tracking_number, gross_weight_kg=body.gross_weight_kg, note=body.note,
        packages=[PackageDraft(p.label, p.kind, p.parent, p.gross_weight_kg) for p in body.packages],
        lines=[LineDraft(line.order_line_id, line.quantity, [
            ItemDraft(item.location_id, item.quantity, item.batch, item.serial, item.package) for item in line.items])
            for line in body.lines])


@router.post("/shipments", status_code=201)
async def create_shipment(body: ShipmentCreate, principal: Shipper, session: DbSession, response: Response,
                          where: Where, _key: Idempotent) -> ShipmentOut:
    """Pack open order lines into a shipment: stock is picked and every package, batch and serial labelled."""
    shipment = await shipments.create_shipment(session, actor=principal.actor, draft=_draft(body), where=where)
    response.headers["Location"] = f"{router.prefix}/shipments/{shipment.id}"
    return answer(response, shipment)


@router.get("/shipments")
async def list_shipments(principal: CurrentPrincipal, session: DbSession,
                         role: Annotated[str | None, Query(pattern="^(supplier|buyer|carrier)$")] = None,
                         status: Annotated[str | None, Query(max_length=12)] = None) -> list[ShipmentOut]:
    """Shipments you send, receive or carry, newest first."""
    found = await queries.list_shipments(session, org_id=principal.org_id, role=role, status=status)
    return [ShipmentOut.model_validate(shipment) for shipment in found]


@router.get("/shipments/by-label")
async def shipment_by_label(principal: CurrentPrincipal, session: DbSession,
                            code: Annotated[str, Query(min_length=3, max_length=500)]) -> ShipmentOut:
    """The shipment a scanned QR label or a typed identifier belongs to."""
    return ShipmentOut.model_validate(await queries.shipment_by_label(session, scanned=code))


@router.get("/shipments/{shipment_id}")
async def get_shipment(shipment_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                       response: Response) -> ShipmentDetailOut:
    """A shipment with its lines, packages, batches and serials, and the tracking timeline."""
    view = await queries.shipment_view(session, shipment_id=shipment_id)
    set_etag(response, view.shipment.version)
    return ShipmentDetailOut.model_validate({
        **ShipmentOut.model_validate(view.shipment).model_dump(),
        "lines": [ShipmentLineOut.model_validate(line) for line in view.lines],
        "packages": [PackageOut.model_validate(package) for package in view.packages],
        "items": [ItemOut.model_validate(item) for item in view.items],
        "tracking": [TrackingEventOut.model_validate(event) for event in view.tracking]})


@router.post("/shipments/{shipment_id}/dispatch")
async def dispatch_shipment(shipment_id: uuid.UUID, principal: Shipper, session: DbSession, response: Response,
                            expected_version: ExpectedVersion, where: Where, _key: Idempotent) -> ShipmentOut:
    """The goods leave: the order becomes shipped or partially shipped."""
    shipment = await dispatch.dispatch_shipment(session, actor=principal.actor, shipment_id=shipment_id,
                                                expected_version=expected_version, where=where)
    return answer(response, shipment)


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/shipments/{shipment_id}/packing-list.pdf", response_class=Response, responses=PDF)
async def packing_list(shipment_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> Response:
    """The packing list: each package's batches and serials."""
    return _pdf(await paperwork.packing_list(session, shipment_id=shipment_id), "packing-list.pdf")


@router.get("/shipments/{shipment_id}/delivery-note.pdf", response_class=Response, responses=PDF)
async def delivery_note(shipment_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> Response:
    """The delivery note: quantities per order line, with room for the receiver's signature."""
    return _pdf(await paperwork.delivery_note(session, shipment_id=shipment_id), "delivery-note.pdf")


@router.get("/shipments/{shipment_id}/labels.pdf", response_class=Response, responses=PDF)
async def label_sheet(shipment_id: uuid.UUID, principal: Shipper, session: DbSession, where: Where) -> Response:
    """QR labels for every pallet, package, batch and serial of your shipment (A4 sheet)."""
    return _pdf(await paperwork.label_sheet(session, shipment_id=shipment_id, base_url=where.base_url), "labels.pdf")


@router.post("/shipments/{shipment_id}/tracking", status_code=201)
async def add_tracking(shipment_id: uuid.UUID, body: TrackingIn, principal: CurrentPrincipal, session: DbSession,
                       where: Where, _key: Idempotent) -> TrackingEventOut:
    """A tracking step entered by hand (the shipper or its logistics provider)."""
    event = await tracking.record_manual_tracking(
        session, actor=principal.actor, shipment_id=shipment_id, where=where,
        update=tracking.TrackingUpdate(state=body.state, at=body.at or utcnow(), location=body.location,
                                       note=body.note))
    assert event is not None  # manual steps carry no carrier event id, so they are never duplicates
    return TrackingEventOut.model_validate(event)


@router.post("/carriers/{carrier_code}/events", responses={401: {"description": "signature does not verify"}})
async def carrier_event(carrier_code: str, request: Request, session: DbSession, tx: Tx, where: Where,
                        signature: Annotated[str | None, Header(alias=tracking.SIGNATURE_HEADER)] = None,
                        ) -> CarrierEventOut:
    """A carrier's tracking event, signed with its secret (``X-Carrier-Signature: sha256=<hex HMAC>``)."""
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise Invalid("A carrier event is at most 16 KiB.", code="carrier_event_too_large")
    carrier = await tracking.verified_carrier(session, code=carrier_code, body=body, signature=signature)
    event = _carrier_event(body)
    shipment_id, supplier_org_id = await tracking.shipment_for_tracking(session, carrier=carrier,
                                                                        tracking_number=event.tracking_number)
    await tx.set_context(org_id=supplier_org_id, user_id=None)  # recorded for the shipper, under RLS
    recorded = await tracking.record_tracking(
        session, actor=Actor(org_id=supplier_org_id), shipment_id=shipment_id, source="carrier", where=where,
        update=tracking.TrackingUpdate(state=event.state, at=event.at, location=event.location, note=event.note,
                                       external_id=event.event_id))
    return CarrierEventOut(status="recorded" if recorded else "duplicate")


def _carrier_event(body: bytes) -> CarrierEventIn:
    try:
        return CarrierEventIn.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise Invalid("The carrier event is not a valid tracking event.", code="carrier_event_invalid") from exc


@router.post("/shipments/{shipment_id}/receipt", status_code=201)
async def receive_shipment(shipment_id: uuid.UUID, body: ReceiptCreate, principal: Receiver, session: DbSession,
                           where: Where, _key: Idempotent) -> ReceiptOut:
    """Receive a shipment once: accepted and rejected quantities per line and batch go into your warehouse."""
    receipt = await receiving.receive_shipment(session, actor=principal.actor, where=where, draft=ReceiptDraft(
        shipment_id=shipment_id, location_id=body.location_id, inspection=body.inspection, notes=body.notes,
        lines=[ReceiptLineDraft(line.shipment_line_id, line.accepted, line.rejected, line.batch,
                                line.rejection_reason, line.rejected_serials) for line in body.lines]))
    lines = await receiving.receipt_lines(session, receipt_id=receipt.id)
    return ReceiptOut.model_validate({
        **{name: getattr(receipt, name) for name in ("id", "number", "shipment_id", "order_id", "inspection", "notes",
                                                     "received_at")},
        "lines": [ReceiptLineOut.model_validate(line) for line in lines]})


@router.post("/receipts/{receipt_id}/photos", status_code=201)
async def add_receipt_photo(receipt_id: uuid.UUID, principal: Receiver, session: DbSession, storage: Storage,
                            file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MiB")],
                            _key: Idempotent) -> list[dict[str, Any]]:
    """Add an inspection photo to your goods receipt; returns the receipt's photos."""
    receipt = await receiving.add_photo(session, storage, actor=principal.actor, receipt_id=receipt_id,
                                        filename=file.filename or "", content_type=file.content_type or "",
                                        content=await file.read(receiving.MAX_PHOTO_BYTES + 1))
    return receipt.photos


@router.get("/receipts/{receipt_id}/photos/{key}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "the photo"}})
async def receipt_photo(receipt_id: uuid.UUID, key: str, principal: CurrentPrincipal, session: DbSession,
                        storage: Storage) -> Response:
    """A photo of a goods receipt (buyer and supplier)."""
    chunks, media_type = await receiving.photo_content(session, storage, receipt_id=receipt_id, key=key)
    return StreamingResponse(chunks, media_type=media_type, headers={"Content-Disposition": "attachment"})
