"""Scorecards from real facts: receipts, confirmations and invoices of one buyer; what another buyer and the
supplier itself see; the facts function refuses another buyer's scope; buyer reviews."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import PurchaseOrder
from commerce.supplier_performance import reviews, scoring, service
from tests.factories import Member, make_member
from tests.logistics_factories import LogisticsWorld, make_logistics_world
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import invoice
from tests.supplier_performance_factories import delivered, set_status
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Forbidden, NotFound
from tradeloom.identity.roles import OrgKind, Role


@pytest.fixture
async def world(session: AsyncSession) -> LogisticsWorld:
    return await make_logistics_world(session)


async def _history(session: AsyncSession, world: LogisticsWorld) -> None:
    """One order on time and all accepted, one late with 2 of 10 rejected and confirmed after 48 hours;
    both invoiced for 10 boxes, so the second invoice is a three-way match exception (8 accepted)."""
    first, first_line = await delivered(session, world, due_in_days=10)
    second, second_line = await delivered(session, world, due_in_days=-10, accepted="8", rejected="2",
                                          confirm_hours=48)
    await invoice(session, world, first, first_line)
    await invoice(session, world, second, second_line)


def _today() -> dt.date:
    return utcnow().date()


class TestScorecard:
    async def test_the_buyer_sees_its_own_facts_scored(self, session: AsyncSession, world: LogisticsWorld) -> None:
        # given the history above
        await _history(session, world)
        buyer, supplier = world.orders.buyer, world.orders.supplier
        # when the buyer reads the supplier's scorecard
        await act_as(session, buyer)
        card = await service.scorecard(session, actor=owner_actor(buyer), supplier_org_id=supplier.org.id,
                                       as_of=_today())
        # then every measure counts exactly what happened
        assert card.own is not None
        measured = {m.name: (m.rate, m.observations) for m in card.own.metrics}
        assert measured == {"on_time": (Decimal("0.5000"), 2), "quality": (Decimal("0.9000"), 2),
                            "invoice_accuracy": (Decimal("0.5000"), 2), "confirmation": (Decimal("0.8750"), 2),
                            "quotation_response": (None, 0), "reviews": (None, 0)}
        # 30·2.5/5 + 25·3.3/5 + 15·2.5/5 + 10·3.25/5 + 10·0.5 + 10·0.5
        assert (card.own.score, card.own.stars) == (Decimal("55.5"), Decimal("3.2"))
        assert card.own.average_confirmation_hours == Decimal("24.0")
        # and the platform-wide score is the same facts (one buyer), its breakdown withheld (fewer than 3 buyers)
        assert (card.platform.score, card.platform.buyers, card.platform_detail) == (Decimal("55.5"), 1, False)
        assert card.trend[-1] == (scoring.month_start(_today()), Decimal("55.5"), Decimal("55.5"))
        assert [point[1] for point in card.trend[:-1]] == [Decimal("50.0")] * 11

    async def test_another_buyer_sees_no_own_facts_and_only_the_platform_score(
        self, session: AsyncSession, world: LogisticsWorld
    ) -> None:
        await _history(session, world)
        await as_owner(session)
        other = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        await act_as(session, other)
        card = await service.scorecard(session, actor=owner_actor(other), supplier_org_id=world.orders.supplier.org.id,
                                       as_of=_today())
        assert card.own is not None
        assert (card.own.score, card.own.has_history) == (Decimal("50.0"), False)
        assert (card.platform.score, card.platform_detail) == (Decimal("55.5"), False)
        # and its list of suppliers is empty: it never traded with anyone
        assert await service.buyer_scorecards(session, actor=owner_actor(other), as_of=_today()) == []

    async def test_the_facts_function_gives_nothing_for_another_buyers_scope(
        self, session: AsyncSession, world: LogisticsWorld
    ) -> None:
        await _history(session, world)
        await as_owner(session)
        other = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        await act_as(session, other)
        facts = await service.load_facts(session, supplier_org_ids=None, buyer_org_id=world.orders.buyer.org.id,
                                         as_of=_today(), months=12)
        assert facts == []

    async def test_the_supplier_sees_its_own_breakdown(self, session: AsyncSession, world: LogisticsWorld) -> None:
        await _history(session, world)
        supplier = world.orders.supplier
        await act_as(session, supplier)
        card = await service.scorecard(session, actor=owner_actor(supplier), supplier_org_id=supplier.org.id,
                                       as_of=_today())
        assert (card.own, card.platform.score, card.platform_detail) == (None, Decimal("55.5"), True)

    async def test_a_buyer_is_not_a_supplier(self, session: AsyncSession, world: LogisticsWorld) -> None:
        buyer = world.orders.buyer
        await act_as(session, buyer)
        with pytest.raises(NotFound) as refused:
            await service.scorecard(session, actor=owner_actor(buyer), supplier_org_id=buyer.org.id, as_of=_today())
        assert refused.value.code == "supplier.not_found"

    async def test_the_buyer_list_and_rfq_ratings(self, session: AsyncSession, world: LogisticsWorld) -> None:
        await _history(session, world)
        buyer, supplier, newcomer = world.orders.buyer, world.orders.supplier, world.orders.other_supplier
        await act_as(session, buyer)
        rows = await service.buyer_scorecards(session, actor=owner_actor(buyer), as_of=_today())
        assert [(row.supplier_org_id, row.own.score, row.platform.score) for row in rows] == [
            (supplier.org.id, Decimal("55.5"), Decimal("55.5"))]
        ratings = await service.ratings_for(session, supplier_org_ids=[supplier.org.id, newcomer.org.id],
                                            as_of=_today())
        assert {org: (r.stars, r.has_history) for org, r in ratings.items()} == {
            supplier.org.id: (Decimal("3.2"), True), newcomer.org.id: (Decimal("3.0"), False)}


class TestReviews:
    async def _finished(self, session: AsyncSession, world: LogisticsWorld) -> tuple[Member, PurchaseOrder]:
        order, _ = await delivered(session, world, due_in_days=5)
        await set_status(session, order.id, "closed")
        await act_as(session, world.orders.buyer)
        return world.orders.buyer, order

    async def test_one_review_per_order_counts_in_the_score(self, session: AsyncSession,
                                                             world: LogisticsWorld) -> None:
        buyer, order = await self._finished(session, world)
        review = await reviews.post_review(session, actor=owner_actor(buyer), order_id=order.id,
                                           stars=4, comment="  good  ")
        assert (review.stars, review.comment, review.supplier_org_id) == (4, "good", world.orders.supplier.org.id)
        with pytest.raises(Conflict) as twice:
            await reviews.post_review(session, actor=owner_actor(buyer), order_id=order.id,
                                      stars=5, comment="")
        assert twice.value.code == "review.exists"
        card = await service.scorecard(session, actor=owner_actor(buyer), supplier_org_id=world.orders.supplier.org.id,
                                       as_of=_today())
        assert card.own is not None
        assert (card.own.average_review_stars, [r.stars for r in card.reviews]) == (Decimal("4.0"), [4])
        assert await reviews.reviewable_orders(session, actor=owner_actor(buyer),
                                               supplier_org_id=world.orders.supplier.org.id) == []
        # and another buyer reads neither the review nor its comment, only the platform score it moves
        await as_owner(session)
        other = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        await act_as(session, other)
        seen = await service.scorecard(session, actor=owner_actor(other), supplier_org_id=world.orders.supplier.org.id,
                                       as_of=_today())
        assert (seen.reviews, seen.platform.score) == ([], card.platform.score)

    async def test_only_the_buyer_of_a_finished_order_reviews(self, session: AsyncSession,
                                                              world: LogisticsWorld) -> None:
        _, order = await self._finished(session, world)
        supplier = world.orders.supplier
        await act_as(session, supplier)
        with pytest.raises(Forbidden):
            await reviews.post_review(session, actor=owner_actor(supplier), order_id=order.id,
                                      stars=5, comment="")
        open_order, _ = await delivered(session, world, due_in_days=5)
        await act_as(session, world.orders.buyer)
        with pytest.raises(Conflict) as unfinished:
            await reviews.post_review(session, actor=owner_actor(world.orders.buyer), order_id=open_order.id, stars=3,
                                      comment="")
        assert unfinished.value.code == "review.order_not_finished"
        # and the database itself refuses a review written for another buyer
        with pytest.raises(Exception, match="row-level security"):
            async with session.begin_nested():
                await session.execute(text(
                    "INSERT INTO supplier_reviews (id, order_id, buyer_org_id, supplier_org_id, stars, comment) "
                    "VALUES (gen_random_uuid(), :order, :buyer, :supplier, 1, '')"),
                    {"order": open_order.id, "buyer": supplier.org.id, "supplier": supplier.org.id})
