"""Placing orders: exact totals, gapless numbers, the price engine for carts, and every refused line."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderEvent, OrderLine
from commerce.orders.rules import OrderSource, TaxRate
from commerce.orders.service import create
from commerce.orders.service.create import CartLine
from ledger.models import EvidenceRecord
from tests.factories import make_org
from tests.materials_factories import DAY, act_as, make_material, owner_actor
from tests.orders_factories import OrderWorld, award_line, make_site, place_order
from tradeloom.audit import AuditEntry
from tradeloom.errors import TradeloomError
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind
from tradeloom.outbox.models import OutboxEvent


async def _lines(session: AsyncSession, order_id: object) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    return list((await session.scalars(query)).all())


class TestCreateOrder:
    async def test_totals_are_the_sums_of_half_up_rounded_lines(self, session: AsyncSession, world: OrderWorld) -> None:
        # given three lines: 13 % VAT, 9 % VAT, exempt
        lines = (award_line(world, "3", "12.345"), award_line(world, "7", "0.125", TaxRate.REDUCED),
                 award_line(world, "2", "100", TaxRate.EXEMPT))
        # when the buyer places them
        order = await place_order(session, world, *lines)
        # then each line is rounded half-up to cents and the order sums them
        stored = await _lines(session, order.id)
        assert [(x.net, x.tax, x.gross) for x in stored] == [
            (Decimal("37.04"), Decimal("4.82"), Decimal("41.86")), (Decimal("0.88"), Decimal("0.08"), Decimal("0.96")),
            (Decimal("200.00"), Decimal("0.00"), Decimal("200.00"))]
        assert (order.net_total, order.tax_total, order.gross_total) == (
            Decimal("237.92"), Decimal("4.90"), Decimal("242.82"))
        assert (order.status, order.source, order.reference, order.fx_rate_to_cny) == (
            "draft", "award", "AWD-2026-0042", Decimal(1))
        assert [x.material_code for x in stored] == [world.bolt.code] * 3
        assert stored[0].price_rule == "award" and stored[0].requested_date == dt.date(2026, 12, 10)

    async def test_numbers_run_without_gaps_per_buyer(self, session: AsyncSession, world: OrderWorld) -> None:
        first = await place_order(session, world)
        with pytest.raises(TradeloomError):
            await place_order(session, world, award_line(world, "2.5", unit="H87"))
        second = await place_order(session, world)
        year = first.created_at.year
        assert (first.number, second.number) == (f"PO-{year}-000001", f"PO-{year}-000002")

    async def test_fx_rate_is_captured(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await place_order(session, world, currency="USD")
        assert (order.currency, order.fx_rate_to_cny) == ("USD", Decimal("7.1"))

    async def test_creation_is_on_the_timeline_and_in_the_outbox(self, session: AsyncSession,
                                                                   world: OrderWorld) -> None:
        order = await place_order(session, world)
        kinds = (await session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id))).all()
        topics = (await session.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic.like("order.%")))).all()
        assert (list(kinds), list(topics)) == (["order.created"], ["order.created"])


class TestRefusedLines:
    @pytest.mark.parametrize(("quantity", "unit", "price", "code"), [
        ("2.5", "H87", "1", "order_quantity_not_whole"),
        ("0", "BX", "1", "order_quantity_invalid"),
        ("-3", "BX", "1", "order_quantity_invalid"),
        ("3", "KGM", "1", "order_unit_incompatible"),
        ("3", "BX", "-1", "order_price_invalid"),
    ])
    async def test_bad_line_is_refused_and_nothing_is_stored(
        self, session: AsyncSession, world: OrderWorld, quantity: str, unit: str, price: str, code: str
    ) -> None:
        with pytest.raises(TradeloomError) as refused:
            await place_order(session, world, award_line(world, quantity, price, unit=unit))
        assert (refused.value.status, refused.value.code) == (422, code)
        assert await session.scalar(select(func.count()).select_from(OrderLine)) == 0

    async def test_unknown_material(self, session: AsyncSession, world: OrderWorld) -> None:
        line = award_line(world)
        unknown = type(line)(**(line.__dict__ | {"material_id": world.site_id}))
        with pytest.raises(TradeloomError) as refused:
            await place_order(session, world, unknown)
        assert refused.value.code == "order_material_unknown"

    async def test_delivery_site_of_another_organization(self, session: AsyncSession, world: OrderWorld) -> None:
        foreign_site = await make_site(session, world.supplier, code="WH-9")
        await act_as(session, world.buyer)
        with pytest.raises(TradeloomError) as refused:
            await create.create_order(session, actor=owner_actor(world.buyer), supplier_org_id=world.supplier.org.id,
                                      delivery_site_id=foreign_site, currency="CNY", lines=[award_line(world)],
                                      source=OrderSource.AWARD, reference="A-1")
        assert (refused.value.status, refused.value.code) == (422, "order_site_unknown")

    async def test_ordering_from_a_buyer_or_oneself(self, session: AsyncSession, world: OrderWorld) -> None:
        await act_as(session, world.buyer)
        for supplier_org_id, code in ((world.buyer.org.id, "order_supplier_is_buyer"),
                                      (world.site_id, "order_supplier_unknown")):
            with pytest.raises(TradeloomError) as refused:
                await create.create_order(session, actor=owner_actor(world.buyer), supplier_org_id=supplier_org_id,
                                          delivery_site_id=world.site_id, currency="CNY", lines=[award_line(world)],
                                          source=OrderSource.AWARD, reference="A-1")
            assert refused.value.code == code

    async def test_an_organization_that_does_not_supply(self, session: AsyncSession, world: OrderWorld) -> None:
        buyer_only = await make_org(session, kind=OrgKind.BUYER)
        closed_supplier = await make_org(session, kind=OrgKind.SUPPLIER)
        await session.execute(update(Organization).where(Organization.id == closed_supplier.id).values(is_active=False))
        await act_as(session, world.buyer)
        for supplier in (buyer_only, closed_supplier):
            with pytest.raises(TradeloomError) as refused:
                await create.create_order(session, actor=owner_actor(world.buyer), supplier_org_id=supplier.id,
                                          delivery_site_id=world.site_id, currency="CNY", lines=[award_line(world)],
                                          source=OrderSource.AWARD, reference="A-1")
            assert (refused.value.status, refused.value.code, refused.value.message) == (
                422, "order_supplier_unknown", "That organization does not supply goods on the platform.")


class TestCartCheckout:
    async def test_cart_lines_are_priced_by_the_engine(self, session: AsyncSession, world: OrderWorld) -> None:
        # given the supplier's offer: boxes of 100, packs of 2 boxes, 12.00 a box
        await act_as(session, world.buyer)
        # when the buyer orders 250 bolts
        order = await create.create_order_from_cart(
            session, actor=owner_actor(world.buyer), supplier_org_id=world.supplier.org.id,
            delivery_site_id=world.site_id, lines=[CartLine(world.bolt.code, Decimal(250), "H87")], on_date=DAY)
        # then the line is 4 boxes at 12.00 from the offer's price break, 13 % VAT
        (line,) = await _lines(session, order.id)
        assert (line.quantity, line.unit, line.unit_price, line.price_rule) == (
            Decimal(4), "BX", Decimal(12), "offer_price_break")
        assert (order.net_total, order.tax_total, order.gross_total, order.source) == (
            Decimal("48.00"), Decimal("6.24"), Decimal("54.24"), "cart")

    async def test_submitted_checkout_records_each_step_in_order(self, session: AsyncSession,
                                                                  world: OrderWorld) -> None:
        # given a cart that needs no approval
        await act_as(session, world.buyer)
        # when the buyer checks it out with submit
        order = await create.create_order_from_cart(
            session, actor=owner_actor(world.buyer), supplier_org_id=world.supplier.org.id,
            delivery_site_id=world.site_id, lines=[CartLine(world.bolt.code, Decimal(250), "H87")], on_date=DAY,
            submit=True)
        # then each step has its timeline row (with the order version of that step), event and audit entry, in
        # step order, and the submission its evidence entry
        steps = ["order.created", "order.submitted", "order.sent"]
        events = (await session.execute(select(OrderEvent.kind, OrderEvent.from_status, OrderEvent.to_status,
                                               OrderEvent.order_version)
                                        .where(OrderEvent.order_id == order.id).order_by(OrderEvent.id))).all()
        assert [tuple(event) for event in events] == [
            ("order.created", None, "draft", 1), ("order.submitted", "draft", "submitted", 2),
            ("order.sent", "submitted", "sent", 3)]
        outbox = (await session.execute(select(OutboxEvent.topic, OutboxEvent.payload)
                                        .where(OutboxEvent.topic.like("order.%")).order_by(OutboxEvent.id))).all()
        assert [(topic, payload["status"], payload["version"]) for topic, payload in outbox] == [
            ("order.created", "draft", 1), ("order.submitted", "submitted", 2), ("order.sent", "sent", 3)]
        audit = await session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(order.id))
                                      .order_by(AuditEntry.id))
        assert list(audit) == steps
        evidence = (await session.execute(select(EvidenceRecord.kind, EvidenceRecord.entry_data)
                                          .where(EvidenceRecord.subject == f"order:{order.id}"))).all()
        assert [kind for kind, _ in evidence] == ["order.submitted"]
        assert b'"submitted"' in evidence[0].entry_data and b"lines_digest" in evidence[0].entry_data
        assert (order.status, order.version) == ("sent", 3)

    async def test_material_the_supplier_does_not_offer(self, session: AsyncSession, world: OrderWorld) -> None:
        nut = await make_material(session, world.other_supplier)
        await act_as(session, world.buyer)
        with pytest.raises(TradeloomError) as refused:
            await create.create_order_from_cart(
                session, actor=owner_actor(world.buyer), supplier_org_id=world.supplier.org.id,
                delivery_site_id=world.site_id, lines=[CartLine(nut.code, Decimal(10), "H87")], on_date=DAY)
        assert (refused.value.status, refused.value.code) == (422, "order_material_not_offered")
        assert refused.value.errors == [{"pointer": "/lines/0", "detail": refused.value.errors[0]["detail"]}]
