"""Row checks of import files: each problem names its row, column and what is wrong (no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from catalog.imports.errors import MissingColumns
from catalog.imports.rows import ImportKind, OfferRow, check_header, check_rows

TODAY = dt.date(2026, 11, 25)
MATERIAL_HEADER = ("class_code", "name_zh", "name_en", "base_unit", "gtin", "attr:thread", "attr:length_mm",
                   "attr:material")
OFFER_HEADER = ("supplier_part_number", "material_code", "currency", "order_unit", "price_tiers", "moq",
                "valid_from", "valid_to")


def problems(kind: ImportKind, header: tuple[str, ...], *rows: tuple[str, ...]) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in check_rows(kind, header, list(rows), today=TODAY).problems]


class TestHeader:
    def test_missing_and_unknown_columns_are_listed(self) -> None:
        with pytest.raises(MissingColumns) as refused:
            check_header(ImportKind.OFFERS, ("supplier_part_number", "material_code", "currency", "price", "price"))
        assert [(e["column"], e["code"]) for e in refused.value.errors] == [
            ("order_unit", "missing_column"), ("price_tiers", "missing_column"), ("price", "repeated_column"),
            ("price", "unknown_column"), ("price", "unknown_column")]
        assert refused.value.status == 422

    def test_attribute_columns_are_allowed_for_materials_only(self) -> None:
        check_header(ImportKind.MATERIALS, MATERIAL_HEADER)
        with pytest.raises(MissingColumns):
            check_header(ImportKind.OFFERS, (*OFFER_HEADER, "attr:thread"))


class TestMaterialRows:
    def test_a_good_row_is_normalized_to_template_units(self) -> None:
        checked = check_rows(ImportKind.MATERIALS, MATERIAL_HEADER,
                             [("100101", "螺栓", "Bolt", "H87", "4006381333931", "M8", "3 CMT", "SS304")], today=TODAY)
        assert checked.problems == []
        assert checked.rows[0].attributes == {"thread": "M8", "length_mm": "30", "material": "SS304"}  # type: ignore[union-attr]

    def test_each_bad_cell_is_reported_with_the_attribute_named(self) -> None:
        found = check_rows(ImportKind.MATERIALS, MATERIAL_HEADER,
                           [("100101", "螺栓", "", "PCS", "4006381333932", "M7", "5 KGM", "")], today=TODAY).problems
        assert [(p.column, p.code, p.message) for p in found] == [
            ("attr:length_mm", "unit_mismatch", "length_mm: Cannot convert KGM (mass) to MMT (length)."),
            ("attr:material", "missing_required", "material: is required"),
            ("attr:thread", "unknown_value",
             "thread: 'M7' is not one of M3, M4, M5, M6, M8, M10, M12, M14, M16, M18, M20, M22 …"),
            ("base_unit", "bad_unit", "'PCS' is not a known unit code (UN/ECE Rec 20, e.g. H87, KGM)"),
            ("gtin", "bad_gtin", "GTIN '4006381333932' has a wrong check digit; expected 1"),
            ("name_en", "missing_value", "name_en is required"),
        ]

    def test_unknown_class_and_unknown_attribute(self) -> None:
        assert problems(ImportKind.MATERIALS, ("class_code", "name_zh", "name_en", "base_unit", "attr:colour"),
                        ("1001", "螺栓", "Bolt", "H87", "red"), ("100101", "螺栓", "Bolt", "H87", "red")) == [
            (2, "attr:colour", "unknown_attribute"), (2, "class_code", "unknown_class"),
            (3, "attr:colour", "unknown_attribute"), (3, "attr:length_mm", "missing_required"),
            (3, "attr:material", "missing_required"), (3, "attr:thread", "missing_required")]

    def test_a_formula_cell_is_text_and_fails_like_any_other_bad_value(self) -> None:
        assert problems(ImportKind.MATERIALS, MATERIAL_HEADER,
                        ("100101", "=1+1", "Bolt", "H87", "", "M8", "=2*15", "SS304")) == [
            (2, "attr:length_mm", "wrong_type")]

    def test_repeated_gtins_and_repeated_materials_in_one_file(self) -> None:
        row = ("100101", "螺栓", "Bolt", "H87", "", "M8", "30", "SS304")
        with_gtin = ("100101", "螺栓 B", "Bolt B", "H87", "4006381333931", "M8", "35", "SS304")
        assert problems(ImportKind.MATERIALS, MATERIAL_HEADER, row, with_gtin, row, with_gtin) == [
            (4, "name_zh", "duplicate_in_file"), (5, "gtin", "duplicate_in_file")]


class TestOfferRows:
    def test_price_tiers_and_defaults(self) -> None:
        checked = check_rows(ImportKind.OFFERS, OFFER_HEADER,
                             [("SP-1", "100101-000001I", "CNY", "H87", "1:12.50; 100:11.8", "", "", "")], today=TODAY)
        assert checked.problems == []
        assert checked.rows == [OfferRow(
            row=2, supplier_part_number="SP-1", material_code="100101-000001I", currency="CNY", order_unit="H87",
            moq=Decimal(1), pack_size=Decimal(1), lead_time_days=7, incoterm="EXW", valid_from=TODAY, valid_to=None,
            tiers=[(Decimal(1), Decimal("12.50")), (Decimal(100), Decimal("11.8"))])]

    def test_bad_cells_and_duplicate_part_numbers(self) -> None:
        assert problems(ImportKind.OFFERS, OFFER_HEADER,
                        ("SP-1", "100101-000001X", "RMB", "H87", "100:2;1:3", "-5", "2026-02-01", "2026-01-01"),
                        ("SP-2", "100101-000001I", "CNY", "H87", "1:0.12345", "1", "01/02/2026", ""),
                        ("SP-1", "100101-000001I", "CNY", "H87", "1:1", "1", "", "")) == [
            (2, "currency", "bad_currency"), (2, "material_code", "bad_material_code"), (2, "moq", "not_positive"),
            (2, "price_tiers", "bad_price_tiers"), (2, "valid_to", "bad_validity"),
            (3, "price_tiers", "too_precise"), (3, "valid_from", "bad_date"),
            (4, "supplier_part_number", "duplicate_in_file")]


class TestPriceListRows:
    HEADER = ("price_list_name", "buyer_uscc", "currency", "valid_from", "material_code", "unit_price", "min_quantity")

    def test_rows_of_one_list_must_agree(self) -> None:
        assert problems(ImportKind.PRICE_LISTS, self.HEADER,
                        ("2027", "91310000AAAAAAAAA1", "CNY", "2027-01-01", "100101-000001I", "1.5", ""),
                        ("2027", "91310000AAAAAAAAA1", "USD", "2027-01-01", "100101-000001I", "1.4", "100"),
                        ("2027", "91310000AAAAAAAAA1", "CNY", "2027-01-01", "100101-000001I", "1.3", "100")) == [
            (3, "currency", "inconsistent_price_list"), (4, "material_code", "duplicate_in_file")]
