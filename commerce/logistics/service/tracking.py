"""Carrier tracking: the timeline of a dispatched shipment, fed by the carrier's signed webhook or by hand.

States run pending → picked_up → in_transit → out_for_delivery → delivered, with exception possible at any
point. A carrier's event id is stored once (a redelivered webhook changes nothing); an event older than the
shipment's state (carriers deliver out of order) joins the timeline without moving the state back.

Webhook signature: ``X-Carrier-Signature: sha256=<hex HMAC-SHA256(carrier secret, raw body)>``, compared in
constant time before anything is parsed or stored.
"""

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Carrier, Shipment, TrackingEvent
from commerce.logistics.rules import ShipmentStatus, TrackingState, tracking_step_allowed
from commerce.logistics.service.dispatch import mark_delivered
from commerce.logistics.service.shipments import get_shipment
from commerce.logistics.service.traceability import Traceability
from tradeloom.audit import Actor
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, NotFound, Unauthorized
from tradeloom.outbox.service import emit

SIGNATURE_HEADER = "X-Carrier-Signature"


@dataclass(frozen=True)
class TrackingUpdate:
    state: TrackingState
    at: dt.datetime
    location: str | None = None
    note: str | None = None
    external_id: str | None = None


def sign(secret: str, body: bytes) -> str:
    """The header value a carrier sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def verified_carrier(session: AsyncSession, *, code: str, body: bytes, signature: str | None) -> Carrier:
    """The carrier whose secret signed ``body``; an unknown carrier and a wrong signature look the same (401)."""
    carrier = await session.scalar(select(Carrier).where(Carrier.code == code))
    expected = sign(carrier.webhook_secret if carrier else "unknown-carrier", body)
    if carrier is None or signature is None or not hmac.compare_digest(expected, signature):
        raise Unauthorized("The carrier event's signature does not verify.", code="carrier_signature_invalid")
    return carrier


_FOR_TRACKING = text("SELECT shipment_id, supplier_org_id FROM tl_shipment_for_tracking(:carrier, :number)")


async def shipment_for_tracking(session: AsyncSession, *, carrier: Carrier,
                                tracking_number: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(shipment id, supplier org) of a verified carrier's tracking number, found without a tenant."""
    row = (await session.execute(_FOR_TRACKING, {"carrier": carrier.id, "number": tracking_number})).first()
    if row is None:
        raise NotFound(f"No shipment with tracking number {tracking_number} for this carrier.",
                       code="tracking_number_unknown")
    return row[0], row[1]


async def record_tracking(session: AsyncSession, *, actor: Actor, shipment_id: uuid.UUID, update: TrackingUpdate,
                          source: str, where: Traceability) -> TrackingEvent | None:
    """Add a step to the timeline (None: this carrier event was recorded before); delivered completes the
    shipment's journey."""
    shipment = await get_shipment(session, shipment_id=shipment_id, lock=True)
    if shipment.status not in (ShipmentStatus.DISPATCHED, ShipmentStatus.DELIVERED, ShipmentStatus.RECEIVED):
        raise Conflict(f"Shipment {shipment.number} has not been dispatched.", code="shipment_not_dispatched")
    event_id = await session.scalar(
        pg_insert(TrackingEvent)
        .values(shipment_id=shipment.id, buyer_org_id=shipment.buyer_org_id,
                supplier_org_id=shipment.supplier_org_id, at=update.at, state=update.state.value,
                location=update.location, note=update.note, source=source, external_id=update.external_id,
                recorded_at=utcnow())
        .on_conflict_do_nothing(index_elements=[TrackingEvent.shipment_id, TrackingEvent.external_id])
        .returning(TrackingEvent.id))
    if event_id is None:
        return None
    await _move(session, actor=actor, shipment=shipment, state=update.state, where=where)
    return await session.get(TrackingEvent, event_id)


async def record_manual_tracking(session: AsyncSession, *, actor: Actor, shipment_id: uuid.UUID,
                                 update: TrackingUpdate, where: Traceability) -> TrackingEvent | None:
    """A step typed in by the supplier or the shipment's logistics provider (the buyer only reads)."""
    shipment = await get_shipment(session, shipment_id=shipment_id)
    if actor.org_id not in (shipment.supplier_org_id, shipment.carrier_org_id):
        raise Forbidden("Only the shipper or its carrier updates tracking.", code="tracking_not_yours")
    return await record_tracking(session, actor=actor, shipment_id=shipment_id, update=update, source="manual",
                                 where=where)


async def _move(session: AsyncSession, *, actor: Actor, shipment: Shipment, state: TrackingState,
                where: Traceability) -> None:
    if not tracking_step_allowed(TrackingState(shipment.tracking_state), state):
        return
    shipment.tracking_state = state.value
    await session.flush()
    await emit(session, org_id=actor.org_id, topic="shipment.tracking_updated",
               payload={"shipment_id": str(shipment.id), "number": shipment.number, "state": state.value})
    if state is TrackingState.DELIVERED:
        await mark_delivered(session, actor=actor, shipment=shipment, where=where)


async def timeline(session: AsyncSession, *, shipment_id: uuid.UUID) -> list[TrackingEvent]:
    """The shipment's tracking events, oldest first (what the buyer sees)."""
    query = (select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
             .order_by(TrackingEvent.at, TrackingEvent.id))
    return list((await session.scalars(query)).all())
