"""Supplier offers: a supplier's listing of a material with its terms, price breaks and stock per site.

Rules checked here (each a 422 with a stable code):
- only organizations of kind supplier or both publish offers, and only for active materials;
- the order unit converts to the material's base unit (same dimension, or a declared pack size);
- the MOQ is a whole number of packs; price breaks ascend strictly, start at or below the MOQ and are
  positive; an offer has one currency (tiers carry none of their own);
- ``valid_to`` is not before ``valid_from``; stock is never negative.
A supplier sees every offer but changes only its own: another supplier's offer is a 404 to it.
"""

import datetime as dt
import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, delete, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from catalog.models import Material, OfferPriceTier, OfferStock, SupplierOffer
from catalog.schemas.materials import MaterialStatus
from catalog.schemas.offers import OfferCreate, OfferStatus, OfferUpdate, PriceTierIn
from catalog.service.materials import get_material, pack_sizes_of
from catalog.units import convert
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Forbidden, Invalid, NotFound
from tradeloom.identity.roles import OrgKind
from tradeloom.identity.service import get_organization
from tradeloom.outbox.service import emit
from tradeloom.pagination import decode_cursor, encode_cursor
from tradeloom.sites.service import get_site

SELLING_KINDS = frozenset({OrgKind.SUPPLIER.value, OrgKind.BOTH.value})
OFFERS_CHANGED = "material.offers_changed"


async def ensure_supplier(session: AsyncSession, actor: Actor) -> None:
    """Offers and price lists come from organizations that sell."""
    organization = await get_organization(session, actor.org_id)
    if organization.kind not in SELLING_KINDS:
        raise Forbidden("Only supplier organizations publish offers and price lists.", code="catalog.not_a_supplier")


def check_tiers(tiers: Sequence[PriceTierIn], moq: Decimal) -> None:
    """Ascending price breaks that cover every orderable quantity (the first starts at or below the MOQ)."""
    minimums = [tier.min_quantity for tier in tiers]
    if any(later <= earlier for earlier, later in itertools.pairwise(minimums)):
        raise Invalid("Price breaks must have strictly ascending min_quantity.", code="catalog.tiers_not_ascending",
                      errors=[{"pointer": "/price_tiers", "min_quantities": [str(m) for m in minimums]}])
    if minimums[0] > moq:
        raise Invalid(f"The first price break starts at {minimums[0]}, above the MOQ {moq}: an order of the MOQ "
                      "would have no price.", code="catalog.tiers_start_above_moq",
                      errors=[{"pointer": "/price_tiers/0/min_quantity"}])


def check_terms(
    material: Material, *, order_unit: str, moq: Decimal, pack_size: Decimal, valid_from: dt.date,
    valid_to: dt.date | None,
) -> None:
    """Order unit, MOQ, pack size and validity of an offer for this material."""
    convert(Decimal(1), order_unit, material.base_unit, pack_sizes=pack_sizes_of(material))
    if moq % pack_size != 0:
        raise Invalid(f"The MOQ {moq} is not a whole number of packs of {pack_size}.",
                      code="catalog.moq_not_whole_packs", errors=[{"pointer": "/moq"}])
    if valid_to is not None and valid_to < valid_from:
        raise Invalid("valid_to is before valid_from.", code="catalog.invalid_validity",
                      errors=[{"pointer": "/valid_to"}])


async def _offerable(session: AsyncSession, material_id: uuid.UUID) -> Material:
    material = await get_material(session, material_id=material_id)
    if material.status != MaterialStatus.ACTIVE:
        raise Invalid(f"{material.code} is {material.status}; only active materials can be offered.",
                      code="catalog.material_not_offerable")
    return material


async def _replace_tiers(session: AsyncSession, offer: SupplierOffer, tiers: Sequence[PriceTierIn]) -> None:
    await session.execute(delete(OfferPriceTier).where(OfferPriceTier.offer_id == offer.id))
    await session.execute(insert(OfferPriceTier), [
        {"org_id": offer.org_id, "offer_id": offer.id, "min_quantity": t.min_quantity, "unit_price": t.unit_price}
        for t in tiers
    ])


async def create_offer(session: AsyncSession, *, actor: Actor, fields: OfferCreate) -> SupplierOffer:
    """Publish an offer for a material under the supplier's own part number."""
    await ensure_supplier(session, actor)
    material = await _offerable(session, fields.material_id)
    check_terms(material, order_unit=fields.order_unit, moq=fields.moq, pack_size=fields.pack_size,
                valid_from=fields.valid_from, valid_to=fields.valid_to)
    check_tiers(fields.price_tiers, fields.moq)
    offer = SupplierOffer(org_id=actor.org_id, **fields.model_dump(exclude={"price_tiers"}, mode="python"))
    session.add(offer)
    await flush_or_conflict(session, f"Part number {fields.supplier_part_number} is already offered.",
                            "catalog.part_number_taken")
    await _replace_tiers(session, offer, fields.price_tiers)
    await _audit(session, actor, "offer.created", offer)
    return offer


async def get_offer(session: AsyncSession, *, offer_id: uuid.UUID) -> SupplierOffer:
    """Any offer (offers are public listings)."""
    offer = await session.get(SupplierOffer, offer_id)
    if offer is None:
        raise NotFound("No such offer.", code="catalog.offer_not_found")
    return offer


async def own_offer(session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID) -> SupplierOffer:
    """One of the actor's own offers; someone else's is 'not found', as if it were not there."""
    offer = await session.scalar(
        select(SupplierOffer).where(SupplierOffer.id == offer_id, SupplierOffer.org_id == actor.org_id)
    )
    if offer is None:
        raise NotFound("No such offer of yours.", code="catalog.offer_not_found")
    return offer


async def update_offer(
    session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID, expected_version: int, changes: OfferUpdate
) -> SupplierOffer:
    """Change the terms sent (checked together with the unchanged ones); tiers are replaced as a whole."""
    offer = await own_offer(session, actor=actor, offer_id=offer_id)
    check_version(offer.version, expected_version)
    sent = changes.model_dump(exclude_unset=True, exclude={"price_tiers"})
    for name, value in sent.items():
        if value is None and name != "valid_to":  # an open-ended offer is fine; a missing term is not
            raise Invalid(f"{name} cannot be emptied.", code="catalog.field_required", errors=[{"pointer": f"/{name}"}])
        setattr(offer, name, value)
    material = await get_material(session, material_id=offer.material_id)
    check_terms(material, order_unit=offer.order_unit, moq=offer.moq, pack_size=offer.pack_size,
                valid_from=offer.valid_from, valid_to=offer.valid_to)
    tiers = changes.price_tiers or [PriceTierIn(min_quantity=t.min_quantity, unit_price=t.unit_price)
                                    for t in await price_tiers(session, offer_ids=[offer.id])]
    check_tiers(tiers, offer.moq)
    if changes.price_tiers is not None:
        await _replace_tiers(session, offer, changes.price_tiers)
        flag_modified(offer, "status")  # new prices are a new version of the offer
    await flush_or_conflict(session, f"Part number {offer.supplier_part_number} is already offered.",
                            "catalog.part_number_taken")
    await _audit(session, actor, "offer.updated", offer, fields=sorted(changes.model_dump(exclude_unset=True)))
    return offer


async def withdraw_offer(
    session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID, expected_version: int
) -> SupplierOffer:
    """Take an offer off the market (kept for the orders that refer to it)."""
    offer = await own_offer(session, actor=actor, offer_id=offer_id)
    check_version(offer.version, expected_version)
    offer.status = OfferStatus.WITHDRAWN.value
    await session.flush()
    await _audit(session, actor, "offer.withdrawn", offer)
    return offer


async def set_stock(
    session: AsyncSession, *, actor: Actor, offer_id: uuid.UUID, site_id: uuid.UUID, quantity: Decimal
) -> OfferStock:
    """Record what is available at one of the supplier's own sites (a feed for logistics)."""
    offer = await own_offer(session, actor=actor, offer_id=offer_id)
    await get_site(session, site_id=site_id)  # the sites table shows an organization its own sites only
    if quantity < 0:
        raise Invalid("Stock cannot be negative.", code="catalog.negative_stock")
    now = utcnow()
    upsert = pg_insert(OfferStock).values(
        org_id=offer.org_id, offer_id=offer.id, site_id=site_id, quantity=quantity, updated_at=now
    )
    statement = upsert.on_conflict_do_update(
        index_elements=[OfferStock.offer_id, OfferStock.site_id], set_={"quantity": quantity, "updated_at": now}
    ).returning(OfferStock)
    stock = (await session.scalars(statement, execution_options={"populate_existing": True})).one()
    await _audit(session, actor, "offer.stock_set", offer, site_id=str(site_id), quantity=str(quantity))
    return stock


async def list_own_offers(
    session: AsyncSession, *, actor: Actor, limit: int, cursor: str | None, material_id: uuid.UUID | None = None,
) -> tuple[list[SupplierOffer], str | None]:
    """The actor's offers ordered by part number, one keyset page at a time."""
    query = (select(SupplierOffer).where(SupplierOffer.org_id == actor.org_id)
             .order_by(SupplierOffer.supplier_part_number).limit(limit + 1))
    if cursor:
        (after,) = decode_cursor(cursor, arity=1)
        query = query.where(SupplierOffer.supplier_part_number > str(after))
    if material_id:
        query = query.where(SupplierOffer.material_id == material_id)
    offers = list((await session.scalars(query)).all())
    next_cursor = encode_cursor(offers[limit - 1].supplier_part_number) if len(offers) > limit else None
    return offers[:limit], next_cursor


# The price breaks of some offers (``offer_ids``), by offer then ascending quantity; built once.
_PRICE_TIERS = select(OfferPriceTier).where(
    OfferPriceTier.offer_id.in_(bindparam("offer_ids", expanding=True))
).order_by(OfferPriceTier.offer_id, OfferPriceTier.min_quantity)


async def price_tiers(session: AsyncSession, *, offer_ids: Sequence[uuid.UUID]) -> list[OfferPriceTier]:
    """The price breaks of these offers, by offer then ascending quantity."""
    return list((await session.scalars(_PRICE_TIERS, {"offer_ids": offer_ids})).all())


async def stock_of(session: AsyncSession, *, offer_ids: Sequence[uuid.UUID]) -> list[OfferStock]:
    """Stock of these offers at the suppliers' sites."""
    query = select(OfferStock).where(OfferStock.offer_id.in_(offer_ids)).order_by(OfferStock.site_id)
    return list((await session.scalars(query)).all())


@dataclass(frozen=True)
class OfferView:
    """An offer with its price breaks and stock, as the API shows it."""

    offer: SupplierOffer
    price_tiers: list[OfferPriceTier]
    stock: list[OfferStock]


async def offer_views(session: AsyncSession, offers: Sequence[SupplierOffer]) -> list[OfferView]:
    """Offers with their tiers and stock, in two queries for any number of offers."""
    ids = [offer.id for offer in offers]
    tiers, stock = await price_tiers(session, offer_ids=ids), await stock_of(session, offer_ids=ids)
    return [OfferView(offer, [t for t in tiers if t.offer_id == offer.id], [s for s in stock if s.offer_id == offer.id])
            for offer in offers]


async def _audit(session: AsyncSession, actor: Actor, action: str, offer: SupplierOffer, **details: object) -> None:
    """Audit entry, and a ``material.offers_changed`` event: the material's search entry (best price,
    suppliers, stock) is re-indexed by the job subscribed to ``material.*``."""
    await record_audit(session, actor=actor, action=action, object_type="offer", object_id=offer.id,
                       details={"material_id": str(offer.material_id), "version": offer.version, **details})
    await emit(session, org_id=actor.org_id, topic=OFFERS_CHANGED,
               payload={"material_id": str(offer.material_id), "offer_id": str(offer.id), "change": action})


async def offers_in_classes(
    session: AsyncSession, *, class_codes: Sequence[str], on_date: dt.date
) -> list[tuple[SupplierOffer, str]]:
    """Active offers valid on the date for materials of these classes, each with its material's class."""
    query = (
        select(SupplierOffer, Material.class_code).join(Material, Material.id == SupplierOffer.material_id)
        .where(Material.class_code.in_(class_codes), SupplierOffer.status == OfferStatus.ACTIVE.value,
               SupplierOffer.valid_from <= on_date,
               or_(SupplierOffer.valid_to.is_(None), SupplierOffer.valid_to >= on_date))
        .order_by(SupplierOffer.org_id, SupplierOffer.id)
    )
    return [(offer, class_code) for offer, class_code in (await session.execute(query)).all()]


async def stock_of_offers(session: AsyncSession, *, offer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """Quantity in stock per offer (in the offer's order unit), summed over the supplier's sites; offers
    without stock figures are absent."""
    if not offer_ids:
        return {}
    rows = await session.execute(select(OfferStock.offer_id, func.sum(OfferStock.quantity))
                                 .where(OfferStock.offer_id.in_(offer_ids)).group_by(OfferStock.offer_id))
    return {offer_id: quantity for offer_id, quantity in rows.all()}
