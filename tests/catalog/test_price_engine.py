"""The price engine: which rule applies, exact quantities, MOQ and pack rounding, validity, ranking."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.errors import IncompatibleUnits, InvalidQuantity, UnknownUnit
from catalog.models import Material, PriceList, PriceListLine
from catalog.schemas.materials import MaterialStatus
from catalog.service import lifecycle, pricing
from catalog.service.pricing import PriceRule
from tests.factories import Member, make_member
from tests.materials_factories import (
    DAY,
    act_as,
    make_material,
    make_offer,
    make_price_list,
    owner_actor,
)
from tradeloom.errors import Conflict, NotFound
from tradeloom.identity.roles import OrgKind, Role


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)


@pytest.fixture
async def buyer(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)


@pytest.fixture
async def bolt(session: AsyncSession, supplier: Member, buyer: Member) -> Material:
    return await make_material(session, supplier)


async def _quote(session: AsyncSession, buyer: Member, bolt: Material, quantity: str, unit: str,
                 on_date: dt.date = DAY, **kwargs: object) -> pricing.PriceQuote:
    await act_as(session, buyer)
    return await pricing.price_for(session, buyer_org_id=buyer.org.id, material_id=bolt.id,
                                   quantity=Decimal(quantity), unit=unit, on_date=on_date, **kwargs)  # type: ignore[arg-type]


class TestOfferPriceBreaks:
    async def test_pieces_become_whole_packs_of_boxes(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                      bolt: Material) -> None:
        # given boxes of 100, MOQ 2 boxes, packs of 2 boxes, 12 / 10.5 / 9 a box
        offer = await make_offer(session, supplier, bolt.id)
        # when 250 bolts are asked for
        quote = await _quote(session, buyer, bolt, "250", "H87")
        # then 2.5 boxes round up to 2 packs = 4 boxes at the first break
        assert (quote.rule, quote.offer_id, quote.price_list_id) == (PriceRule.OFFER, offer.id, None)
        assert (quote.quantity_in_order_unit, quote.quantity_exact) == (Decimal("2.5"), True)
        assert (quote.order_quantity, quote.order_unit, quote.unit_price) == (Decimal(4), "BX", Decimal(12))
        assert (quote.line_total, quote.currency) == (Decimal("48.0000"), "CNY")
        assert quote.adjustments == ("rounded up to whole packs of 2 BX",)
        assert (quote.valid_from, quote.valid_to, quote.lead_time_days, quote.incoterm) == (
            dt.date(2026, 1, 1), dt.date(2026, 12, 31), 5, "FCA")

    async def test_below_the_moq_is_raised_to_it(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                 bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        quote = await _quote(session, buyer, bolt, "12", "DZN")  # 144 bolts = 1.44 boxes
        assert (quote.quantity_in_order_unit, quote.order_quantity, quote.line_total) == (
            Decimal("1.44"), Decimal(2), Decimal("24.0000"))
        assert quote.adjustments == ("raised to the minimum order quantity of 2 BX",)

    async def test_the_break_is_chosen_by_the_order_quantity(self, session: AsyncSession, supplier: Member,
                                                             buyer: Member, bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        assert (await _quote(session, buyer, bolt, "10", "BX")).unit_price == Decimal("10.5")
        assert (await _quote(session, buyer, bolt, "4999", "H87")).unit_price == Decimal("9")  # 50 boxes
        assert (await _quote(session, buyer, bolt, "4999", "H87")).order_quantity == Decimal(50)

    async def test_a_conversion_without_a_finite_decimal_is_shown_rounded_and_billed_exactly(
        self, session: AsyncSession, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        await make_offer(session, supplier, bolt.id, order_unit="DZN", moq="1", pack_size="1",
                         price_tiers=[{"min_quantity": "1", "unit_price": "1.44"}])
        quote = await _quote(session, buyer, bolt, "1", "BX")  # 100 bolts = 8⅓ dozen
        assert (quote.quantity_in_order_unit, quote.quantity_exact) == (Decimal("8.333333"), False)
        assert (quote.order_quantity, quote.line_total) == (Decimal(9), Decimal("12.9600"))

    async def test_units_that_do_not_fit_are_refused(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                     bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        with pytest.raises(IncompatibleUnits):
            await _quote(session, buyer, bolt, "5", "KGM")
        with pytest.raises(UnknownUnit):
            await _quote(session, buyer, bolt, "5", "CT")  # no carton size declared for this bolt
        with pytest.raises(InvalidQuantity):
            await pricing.price_for(session, buyer_org_id=buyer.org.id, material_id=bolt.id, quantity=2.5,  # type: ignore[arg-type]
                                    unit="BX", on_date=DAY)
        with pytest.raises(InvalidQuantity):
            await _quote(session, buyer, bolt, "0", "BX")

    async def test_offers_outside_their_validity_or_paused_give_no_price(
        self, session: AsyncSession, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        await make_offer(session, supplier, bolt.id)
        await make_offer(session, supplier, bolt.id, status="paused", valid_to=None)
        with pytest.raises(NotFound) as none:
            await _quote(session, buyer, bolt, "2", "BX", on_date=dt.date(2027, 1, 1))
        assert none.value.code == "catalog.no_price"

    async def test_a_blocked_material_cannot_be_bought(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                       bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        await act_as(session, supplier)
        await lifecycle.change_status(session, actor=owner_actor(supplier), material_id=bolt.id,
                                      expected_version=bolt.version, status=MaterialStatus.BLOCKED)
        with pytest.raises(Conflict) as blocked:
            await _quote(session, buyer, bolt, "2", "BX")
        assert blocked.value.code == "catalog.material_not_purchasable"


class TestPriceLists:
    async def test_a_customer_list_beats_the_price_break(self, session: AsyncSession, supplier: Member,
                                                         buyer: Member, bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        price_list = await make_price_list(session, supplier, buyer.org.id, bolt.id)
        small = await _quote(session, buyer, bolt, "250", "H87")  # 4 boxes = 400 bolts at 0.10
        large = await _quote(session, buyer, bolt, "1000", "H87")  # 10 boxes = 1,000 bolts at 0.08
        assert (small.rule, small.price_list_id, small.unit_price, small.line_total) == (
            PriceRule.CUSTOMER, price_list.id, Decimal("10.000000"), Decimal("40.0000"))
        assert (large.unit_price, large.line_total) == (Decimal("8.000000"), Decimal("80.0000"))
        assert (small.valid_from, small.valid_to) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))

    async def test_a_contract_list_beats_a_customer_list(self, session: AsyncSession, supplier: Member,
                                                         buyer: Member, bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        await make_price_list(session, supplier, buyer.org.id, bolt.id)
        contract = await make_price_list(
            session, supplier, buyer.org.id, bolt.id, kind="contract", reference="HT-2026-017",
            lines=[{"material_id": str(bolt.id), "min_quantity": "0", "unit_price": "0.11"}],
        )
        quote = await _quote(session, buyer, bolt, "250", "H87")
        assert (quote.rule, quote.price_list_id, quote.unit_price) == (PriceRule.CONTRACT, contract.id,
                                                                        Decimal("11.000000"))

    async def test_another_buyer_gets_the_public_price(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                       bolt: Material) -> None:
        other = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        await make_offer(session, supplier, bolt.id)
        await make_price_list(session, supplier, buyer.org.id, bolt.id)
        quote = await _quote(session, other, bolt, "250", "H87")
        assert (quote.rule, quote.unit_price) == (PriceRule.OFFER, Decimal(12))
        # asking in someone else's name shows nothing more: RLS hides the list from this session
        snooped = await pricing.price_for(session, buyer_org_id=buyer.org.id, material_id=bolt.id,
                                          quantity=Decimal(250), unit="H87", on_date=DAY)
        assert snooped.rule == PriceRule.OFFER
        # and at the table level: the other buyer reads no list and no line of it
        assert (await session.scalars(select(PriceList))).all() == []
        assert (await session.scalars(select(PriceListLine))).all() == []

    async def test_a_list_not_yet_valid_does_not_apply(self, session: AsyncSession, supplier: Member, buyer: Member,
                                                       bolt: Material) -> None:
        await make_offer(session, supplier, bolt.id)
        await make_price_list(session, supplier, buyer.org.id, bolt.id, valid_from="2026-12-01")
        assert (await _quote(session, buyer, bolt, "250", "H87")).rule == PriceRule.OFFER

    async def test_a_list_without_an_offer_is_quoted_in_base_units(
        self, session: AsyncSession, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        await make_price_list(session, supplier, buyer.org.id, bolt.id)
        quote = await _quote(session, buyer, bolt, "2.5", "BX")
        assert (quote.offer_id, quote.order_unit, quote.order_quantity, quote.unit_price, quote.line_total) == (
            None, "H87", Decimal(250), Decimal("0.1000"), Decimal("25.0000"))
        assert (quote.moq, quote.pack_size, quote.lead_time_days, quote.adjustments) == (
            Decimal(0), Decimal(0), None, ())


class TestComparison:
    async def test_ranked_by_price_per_base_unit_then_lead_time(
        self, session: AsyncSession, supplier: Member, buyer: Member, bolt: Material
    ) -> None:
        # given three suppliers: boxes at 0.12 a bolt, pieces at 0.11 (5 days) and at 0.11 (3 days)
        cheap_slow = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        cheap_fast = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.BOTH)
        await make_offer(session, supplier, bolt.id)
        per_piece = {"order_unit": "H87", "moq": "100", "pack_size": "50",
                     "price_tiers": [{"min_quantity": "100", "unit_price": "0.11"}]}
        await make_offer(session, cheap_slow, bolt.id, lead_time_days=5, **per_piece)
        await make_offer(session, cheap_fast, bolt.id, lead_time_days=3, **per_piece)
        # when 250 bolts are compared
        await act_as(session, buyer)
        quotes = await pricing.quotes_for(session, buyer_org_id=buyer.org.id, material_id=bolt.id,
                                          quantity=Decimal(250), unit="H87", on_date=DAY)
        # then the cheaper per bolt come first, the faster of them ahead
        assert [(q.supplier_org_id, q.line_total, q.lead_time_days) for q in quotes] == [
            (cheap_fast.org.id, Decimal("27.5000"), 3),
            (cheap_slow.org.id, Decimal("27.5000"), 5),
            (supplier.org.id, Decimal("48.0000"), 5),
        ]
        only = await pricing.price_for(session, buyer_org_id=buyer.org.id, material_id=bolt.id,
                                       quantity=Decimal(250), unit="H87", on_date=DAY, supplier_org_id=supplier.org.id)
        assert only.supplier_org_id == supplier.org.id
