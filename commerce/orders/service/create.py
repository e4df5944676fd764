"""Placing a purchase order: from prices agreed elsewhere (``create_order``) or from a cart priced by the
catalogue's price engine (``create_order_from_cart``).

``create_order`` is the platform's placement hot path (issue 10 benchmarks it): the materials of every line
are read in one query (once: a cart's materials priced by the engine are reused), the order number is
allocated by one upsert, and the lines go in as one INSERT … SELECT FROM unnest … RETURNING. Nothing is queried
per line.
"""

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.schemas.common import CURRENCIES
from catalog.service.materials import materials_by_code, materials_by_id, pack_sizes_of
from catalog.service.pricing import price_request, quotes_for_many
from catalog.units import dimension_of
from commerce.orders.errors import InvalidOrderLine
from commerce.orders.models import FxRate, OrderLine, OrderNumberSequence, PurchaseOrder
from commerce.orders.rules import OrderSource, OrderStatus, TaxRate, is_whole_quantity, line_amounts, order_totals
from commerce.orders.service.budgets import active_rules
from commerce.orders.service.common import PlacedLine, StepRecord, step_record, write_steps
from commerce.orders.service.transitions import submit_steps
from tradeloom.audit import Actor
from tradeloom.db import unnest_insert, utcnow
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Invalid, NotFound, TradeloomError
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind
from tradeloom.sites.models import Site

_SUPPLYING_KINDS = frozenset({OrgKind.SUPPLIER, OrgKind.BOTH})


@dataclass(frozen=True)
class OrderLineDraft:
    """A line to order at a price already agreed (award, framework contract); ``price_rule`` says which."""

    material_id: uuid.UUID
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: TaxRate
    requested_date: dt.date | None = None
    price_rule: str | None = None
    price_reference: str | None = None


@dataclass(frozen=True)
class CartLine:
    material_code: str
    quantity: Decimal
    unit: str
    tax_rate: TaxRate = TaxRate.STANDARD
    requested_date: dt.date | None = None


@dataclass(frozen=True)
class OrderTerms:
    """The header fields a caller may add to an order."""

    payment_terms: str = ""
    requested_date: dt.date | None = None
    cost_centre: str | None = None


def _line_problem(index: int, detail: str) -> dict[str, str]:
    return {"pointer": f"/lines/{index}", "detail": detail}


def _check_line(index: int, draft: OrderLineDraft, material: Material | None) -> str:
    """The material's class code when the line can be ordered; otherwise a 422 naming the line."""
    if material is None:
        raise InvalidOrderLine(f"Line {index + 1}: no such material.", code="order_material_unknown",
                               errors=[_line_problem(index, "unknown material")])
    if material.status != "active":
        raise InvalidOrderLine(f"Line {index + 1}: {material.code} is {material.status} and cannot be ordered.",
                               code="order_material_not_purchasable", errors=[_line_problem(index, material.status)])
    if not draft.quantity.is_finite() or draft.quantity <= 0:
        raise InvalidOrderLine(f"Line {index + 1}: the quantity must be positive.", code="order_quantity_invalid",
                               errors=[_line_problem(index, "quantity must be > 0")])
    if not draft.unit_price.is_finite() or draft.unit_price < 0:
        raise InvalidOrderLine(f"Line {index + 1}: the unit price cannot be negative.", code="order_price_invalid",
                               errors=[_line_problem(index, "unit price must be ≥ 0")])
    packs = pack_sizes_of(material)
    if dimension_of(draft.unit, pack_sizes=packs) != dimension_of(material.base_unit, pack_sizes=packs):
        raise InvalidOrderLine(f"Line {index + 1}: {material.code} is not measured in {draft.unit}.",
                               code="order_unit_incompatible", errors=[_line_problem(index, draft.unit)])
    if not is_whole_quantity(draft.unit, draft.quantity):
        raise InvalidOrderLine(f"Line {index + 1}: {draft.unit} is counted in whole units, not {draft.quantity}.",
                               code="order_quantity_not_whole", errors=[_line_problem(index, "whole units only")])
    return material.class_code


async def _check_parties(session: AsyncSession, actor: Actor, supplier_org_id: uuid.UUID,
                         delivery_site_id: uuid.UUID) -> None:
    """The supplier must be an active supplying organization and the site one of the buyer's own (RLS shows
    no other), both read in one statement."""
    if supplier_org_id == actor.org_id:
        raise Invalid("An organization cannot order from itself.", code="order_supplier_is_buyer")
    parties = await _PARTIES.first(session, {"supplier_org_id": supplier_org_id, "site_id": delivery_site_id})
    if parties is None:
        raise Invalid("No such supplier organization.", code="order_supplier_unknown")
    kind, active, site_found = parties
    if not site_found:
        raise Invalid("No such delivery site among your organization's sites.", code="order_site_unknown")
    if kind not in _SUPPLYING_KINDS or not active:
        raise Invalid("That organization does not supply goods on the platform.", code="order_supplier_unknown")


# Placement's own statements are built once (their parameters given at execution): building a statement and
# its cache key costs more Python time than running it; the reads and the counter run on the driver connection.
_PARTIES = DriverStatement(select(
    Organization.kind, Organization.is_active, exists().where(Site.id == bindparam("site_id"))
).where(Organization.id == bindparam("supplier_org_id")))
_FX_RATE = DriverStatement(select(FxRate.rate_to_cny).where(FxRate.currency == bindparam("currency")))
_NEXT_NUMBER = DriverStatement(
    pg_insert(OrderNumberSequence)
    .on_conflict_do_update(index_elements=[OrderNumberSequence.org_id, OrderNumberSequence.year],
                           set_={"last_number": OrderNumberSequence.last_number + 1})
    .returning(OrderNumberSequence.last_number)
)
_INSERT_LINES = DriverStatement(unnest_insert(
    OrderLine, shared=("order_id", "buyer_org_id", "supplier_org_id"),
    per_row=("id", "line_no", "material_id", "material_code", "material_class", "quantity", "unit", "unit_price",
             "tax_rate", "net", "tax", "gross", "requested_date", "price_rule", "price_reference"),
).returning(*[OrderLine.__table__.c[name] for name in PlacedLine._fields]))


async def _fx_rate(session: AsyncSession, currency: str) -> Decimal:
    if currency not in CURRENCIES:
        raise Invalid(f"{currency!r} is not an accepted ISO 4217 currency code.", code="order_currency_unknown")
    rate = await _FX_RATE.scalar(session, {"currency": currency})
    if rate is None:
        raise Invalid(f"No exchange rate to CNY is set for {currency}.", code="order_fx_rate_missing")
    return rate


async def _next_number(session: AsyncSession, buyer_org_id: uuid.UUID, year: int) -> str:
    """PO-<year>-<6 digits>, per buyer and year, without gaps: the counter row moves with the transaction."""
    number = await _NEXT_NUMBER.scalar(session, {"org_id": buyer_org_id, "year": year, "last_number": 1})
    return f"PO-{year}-{number:06d}"


@dataclass(frozen=True)
class PlacedOrder:
    """An order just written with its lines; its ``created`` step is captured but not yet written."""

    order: PurchaseOrder
    lines: list[PlacedLine]
    created: StepRecord


async def create_order(
    session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
    currency: str, lines: Sequence[OrderLineDraft], source: OrderSource, reference: str | None,
    terms: OrderTerms | None = None,
) -> PurchaseOrder:
    """Place a draft order for the actor's organization at the given prices (no price lookup)."""
    materials = await materials_by_id(session, material_ids=[draft.material_id for draft in lines])
    placed = await _place(session, actor=actor, supplier_org_id=supplier_org_id, delivery_site_id=delivery_site_id,
                          currency=currency, lines=lines, source=source, reference=reference, terms=terms,
                          materials=materials)
    await write_steps(session, actor=actor, steps=[placed.created])
    return placed.order


async def _place(
    session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
    currency: str, lines: Sequence[OrderLineDraft], source: OrderSource, reference: str | None,
    terms: OrderTerms | None, materials: Mapping[uuid.UUID, Material],
) -> PlacedOrder:
    """Check and write the order and its lines; ``materials`` are those of the lines, already read."""
    if not lines:
        raise Invalid("An order needs at least one line.", code="order_lines_missing")
    terms = terms or OrderTerms()
    await _check_parties(session, actor, supplier_org_id, delivery_site_id)
    classes = [_check_line(i, draft, materials.get(draft.material_id)) for i, draft in enumerate(lines)]
    amounts = [line_amounts(draft.quantity, draft.unit_price, draft.tax_rate) for draft in lines]
    totals = order_totals(amounts)
    fx_rate = await _fx_rate(session, currency)
    now = utcnow()
    # The buyer's number counter row stays locked until commit, and the buyer's other orders queue on it:
    # everything that only reads comes before it (decision 0020).
    number = await _next_number(session, actor.org_id, now.year)
    order = PurchaseOrder(
        id=uuid.uuid4(), number=number, buyer_org_id=actor.org_id,
        supplier_org_id=supplier_org_id, delivery_site_id=delivery_site_id, currency=currency,
        fx_rate_to_cny=fx_rate, payment_terms=terms.payment_terms,
        requested_date=terms.requested_date, cost_centre=terms.cost_centre, source=source.value,
        reference=reference, status=OrderStatus.DRAFT.value, net_total=totals.net, tax_total=totals.tax,
        gross_total=totals.gross, approvals_required=0, approvals_given=0, created_by_user_id=actor.user_id,
        created_at=now, updated_at=now,
    )
    session.add(order)
    await session.flush()
    columns = {
        "id": [uuid.uuid4() for _ in lines], "line_no": list(range(1, len(lines) + 1)),
        "material_id": [draft.material_id for draft in lines],
        "material_code": [materials[draft.material_id].code for draft in lines], "material_class": classes,
        "quantity": [draft.quantity for draft in lines], "unit": [draft.unit for draft in lines],
        "unit_price": [draft.unit_price for draft in lines], "tax_rate": [draft.tax_rate.value for draft in lines],
        "net": [amount.net for amount in amounts], "tax": [amount.tax for amount in amounts],
        "gross": [amount.gross for amount in amounts],
        "requested_date": [draft.requested_date or terms.requested_date for draft in lines],
        "price_rule": [draft.price_rule or source.value for draft in lines],
        "price_reference": [draft.price_reference or reference for draft in lines],
    }
    inserted = await _INSERT_LINES.rows(session, columns | {
        "order_id": order.id, "buyer_org_id": actor.org_id, "supplier_org_id": supplier_org_id})
    created = sorted(map(PlacedLine._make, inserted))  # by line_no: RETURNING promises no order
    step = await step_record(session, actor=actor, order=order, topic="order.created", from_status=None,
                             details={"source": source.value, "reference": reference, "lines": len(created)},
                             lines=created)
    return PlacedOrder(order=order, lines=created, created=step)


def _line_refused(index: int, line: CartLine, exc: TradeloomError) -> InvalidOrderLine:
    code = {"catalog.no_price": "order_material_not_offered", "catalog.material_not_found": "order_material_unknown"}
    return InvalidOrderLine(f"Line {index + 1} ({line.material_code}): {exc.message}",
                            code=code.get(exc.code, exc.code), errors=[_line_problem(index, exc.message)])


async def _priced_drafts(
    session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, lines: Sequence[CartLine], on_date: dt.date,
) -> tuple[list[tuple[OrderLineDraft, str]], dict[uuid.UUID, Material]]:
    """Each line at the price the engine gives this buyer from this supplier today (with its currency), and
    the materials priced (by id, for placing the order without reading them again).

    Materials and prices for the whole cart are read in a few queries, however many lines it has.
    """
    materials = await materials_by_code(session, codes=[line.material_code for line in lines])
    requests = []
    for index, line in enumerate(lines):
        try:
            if line.material_code not in materials:
                raise NotFound(f"No material has code {line.material_code}.", code="catalog.material_not_found")
            requests.append(price_request(materials[line.material_code].material, line.quantity, line.unit))
        except TradeloomError as exc:
            raise _line_refused(index, line, exc) from exc
    quotes = await quotes_for_many(session, buyer_org_id=actor.org_id, requests=requests, on_date=on_date,
                                   supplier_org_id=supplier_org_id)
    priced = []
    for index, (line, line_quotes) in enumerate(zip(lines, quotes, strict=True)):
        if not line_quotes:
            raise _line_refused(index, line, NotFound("No valid offer or price list gives a price for this "
                                                      "material on that date.", code="catalog.no_price"))
        quote = line_quotes[0]
        priced.append((OrderLineDraft(
            material_id=quote.material_id, quantity=quote.order_quantity, unit=quote.order_unit,
            unit_price=quote.unit_price, tax_rate=line.tax_rate, requested_date=line.requested_date,
            price_rule=quote.rule.value, price_reference=str(quote.price_list_id or quote.offer_id),
        ), quote.currency))
    return priced, {lookup.material.id: lookup.material for lookup in materials.values()}


async def create_order_from_cart(
    session: AsyncSession, *, actor: Actor, supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID,
    lines: Sequence[CartLine], terms: OrderTerms | None = None, on_date: dt.date | None = None,
    submit: bool = False,
) -> PurchaseOrder:
    """Place a draft order for a cart: each line priced by the engine (MOQ and packs applied), rule kept.

    ``submit`` submits it in the same go (``submit_steps`` on the order and lines just written), and the
    steps taken (created, submitted, sent) are written together.
    """
    if not lines:
        raise Invalid("The cart is empty.", code="order_lines_missing")
    on_date = on_date or utcnow().date()
    priced, materials = await _priced_drafts(session, actor=actor, supplier_org_id=supplier_org_id, lines=lines,
                                             on_date=on_date)
    currencies = sorted({currency for _, currency in priced})
    if len(currencies) > 1:
        raise Invalid(f"The supplier prices these lines in {', '.join(currencies)}; order them separately.",
                      code="order_mixed_currencies")
    rules = await active_rules(session, org_id=actor.org_id, currency=currencies[0]) if submit else None
    placed = await _place(session, actor=actor, supplier_org_id=supplier_org_id, delivery_site_id=delivery_site_id,
                          currency=currencies[0], lines=[draft for draft, _ in priced], source=OrderSource.CART,
                          reference=None, terms=terms, materials=materials)
    steps = [placed.created]
    if submit:
        steps += await submit_steps(session, actor=actor, order=placed.order, lines=placed.lines, rules=rules)
    await write_steps(session, actor=actor, steps=steps)
    return placed.order
