"""The demo catalogue: 2,000+ materials of the demo suppliers, offers from several suppliers each, price breaks,
stock at the suppliers' main sites and a few customer and contract price lists for the demo buyers.

Called by ``tradeloom seed-demo`` after ``seed_world``, in the same owner transaction. Idempotent: when the
demo suppliers already own materials nothing more is made, and price lists are found by supplier, buyer and
name. Fast: rows go in with a handful of multi-row INSERTs (no per-material round trips), and every material
announces itself with a ``material.created`` outbox event so the search index fills up like in production.
"""

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from sqlalchemy import exists, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.classes import load_class_tree
from catalog.codes import gs1_check_digit, material_code
from catalog.models import (
    Material,
    MaterialVersion,
    OfferPriceTier,
    OfferStock,
    PriceList,
    PriceListLine,
    SupplierOffer,
)
from catalog.seed_data import LINES, DemoMaterial, demo_materials
from catalog.service.materials import snapshot
from catalog.units import PackSize, convert
from tradeloom.db import utcnow
from tradeloom.outbox.models import OutboxEvent
from tradeloom.sites.models import Site

SEED = 2026
VALID_FROM = dt.date(2026, 1, 1)
_CENT = Decimal("0.01")
_SUPPLIERS = ("nbpf", "wxht", "wzoj", "czxd", "jshg")


@dataclass(frozen=True)
class _DemoPriceList:
    supplier: str
    buyer: str
    name: str
    kind: str
    reference: str | None
    group: str  # the first materials of this class group (in code order) get a line
    materials: int


_PRICE_LISTS = (
    _DemoPriceList("nbpf", "ecm", "华东重工 2026 紧固件协议价", "customer", None, "10", 80),
    _DemoPriceList("wxht", "tjap", "天津海滨 轴承框架合同价", "contract", "HT-2026-TJAP-007", "11", 40),
    _DemoPriceList("czxd", "szsm", "深圳智造 电机客户价", "customer", None, "12", 30),
    _DemoPriceList("wzoj", "ecm", "华东重工 阀门年度合同价", "contract", "HT-2026-ECM-031", "13", 30),
    _DemoPriceList("jshg", "tjap", "天津海滨 钢材客户价", "customer", None, "15", 20),
)


class World(Protocol):
    """What the catalogue needs of ``tradeloom.seed.DemoWorld``: organization ids by key."""

    organizations: dict[str, uuid.UUID]


@dataclass(frozen=True)
class CatalogSeedReport:
    materials: int
    offers: int
    price_lists: int


def _money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _gtin(index: int) -> str:
    """A valid GTIN-13 under a demo company prefix (690 is China; the rest is made up)."""
    payload = f"690{index:09d}"
    return payload + str(gs1_check_digit(payload))


async def _allocate_codes(session: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """Reserve ``count`` sequences per class in one statement; returns the first sequence of each class."""
    rows = await session.execute(text(
        "UPDATE material_classes c SET next_sequence = c.next_sequence + w.count "
        "FROM (SELECT unnest(CAST(:codes AS text[])) AS code, unnest(CAST(:counts AS int[])) AS count) w "
        "WHERE c.code = w.code AND c.is_leaf RETURNING c.code AS code, c.next_sequence - w.count AS first"
    ), {"codes": list(wanted), "counts": list(wanted.values())})
    return {row["code"]: row["first"] for row in rows.mappings().all()}


def _material_rows(demo: list[DemoMaterial], owners: dict[str, uuid.UUID], firsts: dict[str, int]
                   ) -> list[dict[str, Any]]:
    next_in_class = dict(firsts)
    now, rows = utcnow(), []
    for index, item in enumerate(demo):
        sequence = next_in_class[item.node.code]
        next_in_class[item.node.code] += 1
        rows.append({
            "id": uuid.uuid4(), "code": material_code(item.node.code, sequence), "class_code": item.node.code,
            "owner_org_id": owners[LINES[item.group]], "name_zh": item.name_zh, "name_en": item.name_en,
            "attributes": item.attributes, "base_unit": item.trade.base_unit, "pack_sizes": item.trade.pack_sizes,
            "gtin": _gtin(index + 1) if item.group in ("10", "11") and index % 3 == 0 else None,
            "status": "active", "merged_into_id": None, "version": 1, "created_at": now, "updated_at": now,
        })
    return rows


def _offers(demo: list[DemoMaterial], materials: list[dict[str, Any]], orgs: dict[str, uuid.UUID],
            rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The maker's offer for every material, plus one or two traders' offers for most of them."""
    offers, tiers = [], []
    for item, material in zip(demo, materials, strict=True):
        maker = LINES[item.group]
        traders = rng.sample([key for key in _SUPPLIERS if key != maker], k=rng.choice((0, 1, 1, 2)))
        for supplier in (maker, *traders):
            margin = Decimal(1) if supplier == maker else Decimal(rng.randint(102, 118)) / 100
            price = _money(item.list_price * margin)
            offer_id, trade = uuid.uuid4(), item.trade
            offers.append({
                "id": offer_id, "org_id": orgs[supplier], "material_id": material["id"],
                "supplier_part_number": f"{supplier.upper()}-{material['code']}", "currency": "CNY",
                "order_unit": trade.order_unit, "moq": trade.moq, "pack_size": trade.pack_size,
                "lead_time_days": rng.choice((3, 5, 7, 10, 15, 20, 30)) + (0 if supplier == maker else 2),
                "incoterm": rng.choice(("EXW", "FCA", "DAP")), "valid_from": VALID_FROM,
                "valid_to": rng.choice((None, dt.date(2027, 6, 30))), "status": "active", "version": 1,
            })
            tiers += [{"org_id": orgs[supplier], "offer_id": offer_id, "min_quantity": trade.moq * steps,
                       "unit_price": _money(price * discount)}
                      for steps, discount in ((1, Decimal(1)), (5, Decimal("0.95")), (20, Decimal("0.9")))]
    return offers, tiers


async def _main_sites(session: AsyncSession, orgs: dict[str, uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    rows = await session.execute(select(Site.org_id, Site.id).where(
        Site.org_id.in_([orgs[key] for key in _SUPPLIERS]), Site.code == "MAIN"))
    return {org_id: site_id for org_id, site_id in rows.all()}


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Core multi-row INSERT (the ORM's bulk path would fetch server defaults row by row)."""
    if rows:
        await session.execute(insert(model.__table__), rows)


async def _seed_materials_and_offers(session: AsyncSession, orgs: dict[str, uuid.UUID]) -> tuple[int, int]:
    rng = random.Random(SEED)  # noqa: S311 - demo data, the same on every run on purpose
    demo = demo_materials(load_class_tree(), rng)
    wanted: dict[str, int] = {}
    for item in demo:
        wanted[item.node.code] = wanted.get(item.node.code, 0) + 1
    materials = _material_rows(demo, orgs, await _allocate_codes(session, wanted))
    await _insert(session, Material, materials)
    changed_at = utcnow()
    await _insert(session, MaterialVersion, [
        {"material_id": row["id"], "version": 1, "snapshot": snapshot(Material(**row)), "change": "seeded",
         "changed_by_org_id": row["owner_org_id"], "changed_by_user_id": None, "changed_at": changed_at}
        for row in materials
    ])
    await _insert(session, OutboxEvent, [
        {"org_id": row["owner_org_id"], "topic": "material.created", "created_at": changed_at,
         "available_at": changed_at, "payload": {"material_id": str(row["id"]), "code": row["code"], "version": 1}}
        for row in materials
    ])
    offers, tiers = _offers(demo, materials, orgs, rng)
    await _insert(session, SupplierOffer, offers)
    await _insert(session, OfferPriceTier, tiers)
    sites = await _main_sites(session, orgs)
    await _insert(session, OfferStock, [
        {"org_id": offer["org_id"], "offer_id": offer["id"], "site_id": sites[offer["org_id"]],
         "quantity": offer["pack_size"] * rng.randint(0, 400), "updated_at": changed_at}
        for offer in offers if offer["org_id"] in sites
    ])
    return len(materials), len(offers)


async def _seed_price_lists(session: AsyncSession, orgs: dict[str, uuid.UUID]) -> int:
    """Each list gives its buyer 8 % off the supplier's own first price break, and 12 % from 20 order units."""
    made = 0
    for demo in _PRICE_LISTS:
        org_id, buyer_org_id = orgs[demo.supplier], orgs[demo.buyer]
        if await session.scalar(select(exists().where(
                PriceList.org_id == org_id, PriceList.buyer_org_id == buyer_org_id, PriceList.name == demo.name))):
            continue
        price_list_id = uuid.uuid4()
        await _insert(session, PriceList, [{
            "id": price_list_id, "org_id": org_id, "buyer_org_id": buyer_org_id, "name": demo.name,
            "kind": demo.kind, "currency": "CNY", "valid_from": VALID_FROM, "valid_to": None,
            "reference": demo.reference, "version": 1,
        }])
        base = {"org_id": org_id, "price_list_id": price_list_id, "buyer_org_id": buyer_org_id}
        await _insert(session, PriceListLine, [base | line for line in await _discounted_lines(session, org_id, demo)])
        made += 1
    return made


async def _discounted_lines(session: AsyncSession, org_id: uuid.UUID, demo: _DemoPriceList) -> list[dict[str, Any]]:
    """Per base unit: 92 % of the first price break from 0, 88 % from 20 times the MOQ."""
    offers = await session.execute(
        select(Material.id, Material.base_unit, Material.pack_sizes, SupplierOffer.order_unit,
               SupplierOffer.moq, OfferPriceTier.unit_price)
        .join(SupplierOffer, SupplierOffer.material_id == Material.id)
        .join(OfferPriceTier, OfferPriceTier.offer_id == SupplierOffer.id)
        .where(SupplierOffer.org_id == org_id, OfferPriceTier.min_quantity == SupplierOffer.moq,
               Material.class_code.like(f"{demo.group}%"))
        .order_by(Material.code).limit(demo.materials)
    )
    lines = []
    for row in offers.mappings().all():
        per_order_unit = _base_units_per(row["order_unit"], row["base_unit"], row["pack_sizes"])
        for minimum, share in ((Decimal(0), Decimal("0.92")), (row["moq"] * 20 * per_order_unit, Decimal("0.88"))):
            price = (row["unit_price"] / per_order_unit * share).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            lines.append({"material_id": row["id"], "min_quantity": minimum, "unit_price": price})
    return lines


def _base_units_per(order_unit: str, base_unit: str, pack_sizes: dict[str, str]) -> Decimal:
    packs = {code: PackSize(Decimal(quantity), base_unit) for code, quantity in pack_sizes.items()}
    return convert(Decimal(1), order_unit, base_unit, pack_sizes=packs)


async def seed_catalog(session: AsyncSession, world: World) -> CatalogSeedReport:
    """Build (what is missing of) the demo catalogue; runs as the database owner, like ``seed_world``."""
    orgs = world.organizations
    seeded = await session.scalar(select(exists().where(Material.owner_org_id.in_([orgs[k] for k in _SUPPLIERS]))))
    materials, offers = (0, 0) if seeded else await _seed_materials_and_offers(session, orgs)
    return CatalogSeedReport(materials=materials, offers=offers, price_lists=await _seed_price_lists(session, orgs))
