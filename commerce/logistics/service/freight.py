"""Freight quotes (物流服务对接): a party of a shipment asks logistics providers (organizations of kind
``logistics_provider``) to quote; each provider answers its own request; awarding one quote assigns that
provider as the shipment's carrier, and the other quotes are lost.

A provider sees only the requests addressed to it (RLS: requester or provider), with what it needs to
price the job (from, to, weight, packages), and the shipment itself only once it carries it.
"""

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.models import Carrier, FreightQuote, ShipmentPackage
from commerce.logistics.service.shipments import get_shipment
from commerce.logistics.service.stock import warehouse_of
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid, NotFound
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind
from tradeloom.outbox.service import emit
from tradeloom.sites.models import Site


def _address(site: Site | None) -> str:
    return f"{site.province}{site.city}{site.address_line}" if site else ""


async def request_quotes(session: AsyncSession, *, actor: Actor, shipment_id: uuid.UUID,
                         provider_org_ids: Sequence[uuid.UUID], deliver_to: str) -> list[FreightQuote]:
    """The shipper asks each named logistics provider for a quote for its shipment."""
    shipment = await get_shipment(session, shipment_id=shipment_id)
    if actor.org_id != shipment.supplier_org_id:
        raise NotFound("No such shipment of yours.", code="shipment_not_yours")
    providers = list(await session.scalars(select(Organization).where(Organization.id.in_(provider_org_ids))))
    if not providers or len(providers) != len(set(provider_org_ids)) or any(
            p.kind != OrgKind.LOGISTICS_PROVIDER for p in providers):
        raise Invalid("Quotes are requested from logistics providers.", code="freight_provider_invalid",
                      errors=[{"pointer": "/provider_org_ids"}])
    warehouse = await warehouse_of(session, warehouse_id=shipment.warehouse_id)
    pickup = _address(await session.get(Site, warehouse.site_id))
    packages = await session.scalar(select(func.count()).select_from(ShipmentPackage).where(
        ShipmentPackage.shipment_id == shipment.id, ShipmentPackage.parent_id.is_(None))) or 0
    quotes = [FreightQuote(shipment_id=shipment.id, requester_org_id=actor.org_id, provider_org_id=provider.id,
                           pickup_from=pickup, deliver_to=deliver_to, gross_weight_kg=shipment.gross_weight_kg,
                           packages=packages) for provider in providers]
    session.add_all(quotes)
    await session.flush()
    for quote in quotes:
        await emit(session, org_id=actor.org_id, topic="freight.quote_requested",
                   payload={"quote_id": str(quote.id), "provider_org_id": str(quote.provider_org_id),
                            "shipment_number": shipment.number})
    return quotes


async def _quote(session: AsyncSession, quote_id: uuid.UUID) -> FreightQuote:
    quote = await session.scalar(select(FreightQuote).where(FreightQuote.id == quote_id).with_for_update())
    if quote is None:
        raise NotFound("No such freight quote.", code="freight_quote_not_found")
    return quote


async def submit_quote(session: AsyncSession, *, actor: Actor, quote_id: uuid.UUID, expected_version: int,
                       price: Decimal, currency: str, transit_days: int, note: str | None = None) -> FreightQuote:
    """The provider prices the job (it may revise its price until one quote is awarded)."""
    quote = await _quote(session, quote_id)
    if quote.provider_org_id != actor.org_id:
        raise NotFound("No such quote request addressed to you.", code="freight_quote_not_yours")
    check_version(quote.version, expected_version)
    if quote.status not in ("requested", "quoted"):
        raise Conflict(f"This request is {quote.status}.", code="freight_quote_closed")
    quote.price, quote.currency, quote.transit_days, quote.provider_note = price, currency, transit_days, note
    quote.status, quote.quoted_at = "quoted", utcnow()
    await session.flush()
    await record_audit(session, actor=actor, action="freight.quoted", object_type="freight_quote",
                       object_id=quote.id, details={"price": str(price), "currency": currency})
    return quote


async def award_quote(session: AsyncSession, *, actor: Actor, quote_id: uuid.UUID,
                      expected_version: int) -> FreightQuote:
    """The requester awards a quote: its provider becomes the shipment's carrier, the others are lost."""
    quote = await _quote(session, quote_id)
    if quote.requester_org_id != actor.org_id:
        raise NotFound("No such freight quote of yours.", code="freight_quote_not_yours")
    check_version(quote.version, expected_version)
    if quote.status != "quoted":
        raise Conflict("Only a priced quote can be awarded.", code="freight_quote_not_quoted")
    shipment = await get_shipment(session, shipment_id=quote.shipment_id, lock=True)
    shipment.carrier_org_id = quote.provider_org_id
    shipment.carrier_id = await session.scalar(select(Carrier.id).where(Carrier.org_id == quote.provider_org_id))
    quote.status = "awarded"
    await session.execute(update(FreightQuote).where(
        FreightQuote.shipment_id == quote.shipment_id, FreightQuote.id != quote.id,
        FreightQuote.status.in_(("requested", "quoted"))).values(status="lost", version=FreightQuote.version + 1))
    await session.flush()
    facts = {"quote_id": str(quote.id), "shipment_id": str(shipment.id), "provider_org_id": str(quote.provider_org_id),
             "price": str(quote.price), "currency": quote.currency}
    await emit(session, org_id=actor.org_id, topic="freight.awarded", payload=facts)
    await record_audit(session, actor=actor, action="freight.awarded", object_type="shipment", object_id=shipment.id,
                       details=facts)
    return quote


async def list_quotes(session: AsyncSession, *, shipment_id: uuid.UUID | None = None) -> list[FreightQuote]:
    """Quote requests the caller sent or received, newest first."""
    query = select(FreightQuote).order_by(FreightQuote.created_at.desc()).limit(200)
    if shipment_id:
        query = query.where(FreightQuote.shipment_id == shipment_id)
    return list((await session.scalars(query)).all())
