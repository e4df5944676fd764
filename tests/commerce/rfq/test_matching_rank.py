"""The match score without I/O: weights, the neutral prior for suppliers without history, the rating's pull."""

import uuid
from decimal import Decimal

from commerce.rfq.service.matching import RANK_WEIGHTS, SupplierMatch, rank

CHEAP, DEAR, CLASS_ONLY = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)


def _match(supplier: uuid.UUID, total: str | None, lead: int | None, score: str | None,
           fit: str = "material", stock_cover: str | None = None) -> SupplierMatch:
    return SupplierMatch(supplier, fit, "CNY" if total else None, None, Decimal(total) if total else None, lead,
                         rating_score=Decimal(score) if score is not None else None,
                         stock_cover=Decimal(stock_cover) if stock_cover is not None else None)


def test_weights_are_out_of_100() -> None:
    assert sum(RANK_WEIGHTS.values()) == 100


def test_a_good_rating_outranks_a_slightly_lower_price() -> None:
    # given the cheaper supplier with a poor record (20) and the dearer one with a very good record (95)
    ranked = rank([_match(CHEAP, "100", 5, "20"), _match(DEAR, "110", 5, "95")], "CNY")
    # then 25 + 35 + 4 + 10 = 74 loses to 25 + 31.8 + 19 + 10 = 85.8 (neither has stock figures)
    assert [(m.supplier_org_id, m.match_score) for m in ranked] == [(DEAR, Decimal("85.8")), (CHEAP, Decimal("74.0"))]
    assert ranked[0].parts == {"fit": Decimal("25.0"), "price": Decimal("31.8"), "rating": Decimal("19.0"),
                               "lead_time": Decimal("10.0"), "capacity": Decimal("0.0")}


def test_no_rating_is_the_neutral_prior_and_no_price_counts_nothing() -> None:
    ranked = rank([_match(CLASS_ONLY, None, None, None, fit="class"), _match(CHEAP, "100", 2, None)], "CNY")
    assert [(m.supplier_org_id, m.match_score, m.parts["rating"]) for m in ranked] == [
        (CHEAP, Decimal("80.0"), Decimal("10.0")), (CLASS_ONLY, Decimal("22.5"), Decimal("10.0"))]


def test_a_price_in_another_currency_is_not_compared() -> None:
    foreign = SupplierMatch(DEAR, "material", "USD", None, Decimal("1"), 5, rating_score=Decimal(50))
    ranked = rank([foreign, _match(CHEAP, "100", 5, "50")], "CNY")
    assert [(m.supplier_org_id, m.parts["price"]) for m in ranked] == [(CHEAP, Decimal("35.0")),
                                                                       (DEAR, Decimal("0.0"))]


def test_stock_for_the_whole_quantity_outranks_a_slightly_lower_price() -> None:
    # given the cheaper supplier holding a fifth of the quantity and the dearer one holding all of it
    ranked = rank([_match(CHEAP, "100", 5, "50", stock_cover="0.2"), _match(DEAR, "103", 5, "50", stock_cover="1")],
                  "CNY")
    # then 25 + 35 + 10 + 10 + 2 = 82 loses to 25 + 34.0 + 10 + 10 + 10 = 89
    assert [(m.supplier_org_id, m.match_score, m.parts["capacity"]) for m in ranked] == [
        (DEAR, Decimal("89.0"), Decimal("10.0")), (CHEAP, Decimal("82.0"), Decimal("2.0"))]
