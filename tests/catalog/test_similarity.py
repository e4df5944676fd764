from decimal import Decimal

import pytest

from catalog import similarity
from catalog.classes import load_class_tree
from catalog.similarity import (
    NAME_ONLY_CAP,
    DuplicateScore,
    MaterialRecord,
    candidate_pairs,
    comparable_value,
    score_pair,
    template_units,
)

BOLT_UNITS = {"length_mm": "MMT"}


def bolt(
    material_id: int, name_zh: str, name_en: str, length: object, *, class_code: str = "100101",
    thread: str = "M8", base_unit: str = "H87",
) -> MaterialRecord:
    return MaterialRecord(
        id=material_id, class_code=class_code, name_zh=name_zh, name_en=name_en,
        attributes={"thread": thread, "length_mm": length, "material": "SS304"},
        base_unit=base_unit, attribute_units=BOLT_UNITS,
    )


ORIGINAL = bolt(1, "不锈钢六角螺栓 M8x30", "SS304 hex bolt M8x30", Decimal(30))
# The same bolt keyed in by another buyer: other words, full-width and "*" separator, length in cm.
DUPLICATE = bolt(2, "304不锈钢外六角螺栓M8*30", "Stainless steel hexagon bolts M8×30",
                 {"value": "3", "unit": "CMT"})
# A different bolt whose name differs in one digit.
NEAR_MISS = bolt(3, "不锈钢六角螺栓 M8x35", "SS304 hex bolt M8x35", Decimal(35))


class TestScorePair:
    def test_true_duplicate_ranks_above_near_miss(self) -> None:
        duplicate, near_miss = score_pair(ORIGINAL, DUPLICATE), score_pair(ORIGINAL, NEAR_MISS)
        assert duplicate.total > near_miss.total
        assert duplicate.conflicts == ()
        assert near_miss.conflicts == ("length_mm",)

    def test_parts(self) -> None:
        assert score_pair(ORIGINAL, DUPLICATE) == DuplicateScore(
            total=96.8, parts={"names": 91.0, "base_unit": 100.0, "attributes": 100.0}
        )

    def test_identical_records_score_100(self) -> None:
        assert score_pair(ORIGINAL, ORIGINAL).total == 100.0

    def test_without_shared_attributes_a_name_match_is_capped(self) -> None:
        first = MaterialRecord(1, "100101", "六角螺栓", "hex bolt")
        second = MaterialRecord(2, "100101", "六角螺栓", "hex bolt")
        assert score_pair(first, second).total == NAME_ONLY_CAP

    def test_missing_language_is_skipped(self) -> None:
        first = MaterialRecord(1, "100101", "六角螺栓", "")
        second = MaterialRecord(2, "100101", "六角螺栓", "hex bolt")
        assert score_pair(first, second).parts["names"] == 100.0

    @pytest.mark.parametrize(("unit", "expected"), [("H87", 100.0), ("BX", 50.0), ("KGM", 0.0)])
    def test_base_unit_part(self, unit: str, expected: float) -> None:
        other = bolt(9, "不锈钢六角螺栓 M8x30", "SS304 hex bolt M8x30", Decimal(30), base_unit=unit)
        assert score_pair(ORIGINAL, other).parts["base_unit"] == expected


class TestComparableValue:
    def test_quantities_meet_in_the_base_unit(self) -> None:
        assert comparable_value(Decimal(30), "MMT") == comparable_value({"value": "3", "unit": "CMT"}) == Decimal(
            "0.03"
        )

    def test_ranges(self) -> None:
        assert comparable_value({"min": "0", "max": "100", "unit": "CEL"}) == (Decimal("273.15"), Decimal("373.15"))

    def test_text_is_normalized(self) -> None:
        assert comparable_value("ＳＳ３０４") == "ss304"

    def test_template_units(self) -> None:
        hex_bolts = load_class_tree().classes["100101"].attributes
        assert template_units(hex_bolts) == {"length_mm": "MMT"}


class TestCandidatePairs:
    def test_finds_the_duplicate_only(self) -> None:
        pairs = candidate_pairs([ORIGINAL, NEAR_MISS, DUPLICATE], threshold=85)
        assert [(pair.first_id, pair.second_id) for pair in pairs] == [(1, 2)]

    def test_compares_only_within_one_class(self) -> None:
        elsewhere = bolt(4, ORIGINAL.name_zh, ORIGINAL.name_en, Decimal(30), class_code="100102")
        assert candidate_pairs([ORIGINAL, elsewhere], threshold=0) == []

    def test_best_first(self) -> None:
        pairs = candidate_pairs([ORIGINAL, NEAR_MISS, DUPLICATE], threshold=0)
        totals = [pair.score.total for pair in pairs]
        assert totals == sorted(totals, reverse=True)
        assert (pairs[0].first_id, pairs[0].second_id) == (1, 2)

    def test_name_floor_skips_unrelated_names(self) -> None:
        unrelated = bolt(5, "膨胀管", "wall plug", Decimal(30))
        assert candidate_pairs([ORIGINAL, unrelated], threshold=0) == []

    def test_batches_cover_every_pair(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(similarity, "_ROWS_PER_BATCH", 2)
        records = [bolt(n, "不锈钢六角螺栓 M8x30", "SS304 hex bolt M8x30", Decimal(30)) for n in range(5)]
        pairs = candidate_pairs(records, threshold=85)
        assert sorted((pair.first_id, pair.second_id) for pair in pairs) == [
            (i, j) for i in range(5) for j in range(i + 1, 5)
        ]
