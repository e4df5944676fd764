from decimal import Decimal

import pytest

from catalog.errors import IncompatibleUnits, InexactConversion, InvalidQuantity, UnknownUnit
from catalog.units import PackSize, convert, dimension_of, dimensions, get_unit, units

BOX_OF_100 = {"BX": PackSize(Decimal(100), "H87")}


class TestUnitTable:
    def test_every_dimension_has_a_base_unit_of_factor_one(self) -> None:
        for dimension in dimensions().values():
            base = get_unit(dimension.base)
            assert (base.dimension, base.factor, base.offset) == (dimension.key, 1, 0)

    def test_every_unit_belongs_to_a_known_dimension(self) -> None:
        assert {unit.dimension for unit in units().values()} <= set(dimensions())

    @pytest.mark.parametrize(
        ("code", "dimension"),
        [
            ("C62", "count"), ("H87", "count"), ("KGM", "mass"), ("GRM", "mass"), ("TNE", "mass"),
            ("MGM", "mass"), ("MTR", "length"), ("MMT", "length"), ("CMT", "length"), ("KMT", "length"),
            ("LTR", "volume"), ("MLT", "volume"), ("MTQ", "volume"), ("MTK", "area"), ("SET", "count"),
            ("PR", "count"), ("BX", "count"), ("PK", "count"), ("RO", "count"), ("DZN", "count"),
            ("CEL", "temperature"), ("BAR", "pressure"), ("PAL", "pressure"), ("NEW", "force"),
            ("KWT", "power"), ("WTT", "power"), ("VLT", "voltage"), ("AMP", "current"), ("HUR", "time"),
            ("MIN", "time"), ("SEC", "time"), ("RPM", "rotational_speed"),
        ],
    )
    def test_required_rec20_codes_are_present(self, code: str, dimension: str) -> None:
        assert get_unit(code).dimension == dimension

    def test_names_in_both_languages(self) -> None:
        kilogram = get_unit("KGM")
        assert (kilogram.name_zh, kilogram.name_en, kilogram.symbol) == ("千克", "kilogram", "kg")


class TestConvert:
    @pytest.mark.parametrize(
        ("quantity", "source", "target", "expected"),
        [
            ("1.5", "TNE", "KGM", "1500"),
            ("2500", "MMT", "MTR", "2.5"),
            ("1", "KGM", "TNE", "0.001"),
            ("250", "GRM", "KGM", "0.25"),
            ("1", "INH", "MMT", "25.4"),
            ("1", "LBR", "GRM", "453.59237"),
            ("1", "BAR", "KPA", "100"),
            ("1", "MPA", "BAR", "10"),
            ("2", "KWT", "WTT", "2000"),
            ("1.5", "HUR", "MIN", "90"),
            ("1", "DZN", "H87", "12"),
            ("3", "PR", "C62", "6"),
            ("500", "MLT", "LTR", "0.5"),
            ("1", "MTQ", "LTR", "1000"),
            ("1", "MTK", "MMK", "1000000"),
            ("60", "L2", "MQH", "3.6"),
            ("0", "KGM", "GRM", "0"),
            ("-3", "MTR", "MMT", "-3000"),
        ],
    )
    def test_exact_results(self, quantity: str, source: str, target: str, expected: str) -> None:
        result = convert(Decimal(quantity), source, target)
        assert result == Decimal(expected)
        assert str(result) == expected

    def test_round_trip_is_exact(self) -> None:
        assert convert(convert(Decimal("0.1"), "KGM", "LBR", places=20), "LBR", "KGM", places=6) == Decimal(
            "0.100000"
        )

    def test_refuses_other_dimensions(self) -> None:
        with pytest.raises(IncompatibleUnits) as raised:
            convert(Decimal(1), "KGM", "MTR")
        assert raised.value.code == "catalog.incompatible_units"
        assert raised.value.message == "Cannot convert KGM (mass) to MTR (length)."

    def test_refuses_unknown_unit(self) -> None:
        with pytest.raises(UnknownUnit) as raised:
            convert(Decimal(1), "KGM", "XYZ")
        assert raised.value.message == "Unknown unit of measure 'XYZ'."

    def test_refuses_float(self) -> None:
        with pytest.raises(InvalidQuantity):
            convert(0.1, "KGM", "GRM")  # type: ignore[arg-type]

    def test_refuses_non_finite(self) -> None:
        with pytest.raises(InvalidQuantity):
            convert(Decimal("NaN"), "KGM", "GRM")


class TestTemperature:
    @pytest.mark.parametrize(
        ("quantity", "source", "target", "expected"),
        [
            ("100", "CEL", "FAH", "212"),
            ("-40", "CEL", "FAH", "-40"),
            ("0", "CEL", "KEL", "273.15"),
            ("32", "FAH", "CEL", "0"),
            ("212", "FAH", "KEL", "373.15"),
            ("25.5", "CEL", "CEL", "25.5"),
        ],
    )
    def test_offsets_are_applied(self, quantity: str, source: str, target: str, expected: str) -> None:
        assert convert(Decimal(quantity), source, target) == Decimal(expected)

    def test_result_without_finite_decimal_needs_rounding(self) -> None:
        with pytest.raises(InexactConversion):
            convert(Decimal(100), "FAH", "CEL")
        assert convert(Decimal(100), "FAH", "CEL", places=2) == Decimal("37.78")


class TestPackSizes:
    def test_box_to_pieces(self) -> None:
        assert convert(Decimal(3), "BX", "H87", pack_sizes=BOX_OF_100) == Decimal(300)

    def test_pieces_to_boxes(self) -> None:
        assert convert(Decimal(250), "C62", "BX", pack_sizes=BOX_OF_100) == Decimal("2.5")

    def test_roll_of_cable_to_metres(self) -> None:
        rolls = {"RO": PackSize(Decimal(100), "MTR")}
        assert convert(Decimal(2), "RO", "KMT", pack_sizes=rolls) == Decimal("0.2")
        assert dimension_of("RO", pack_sizes=rolls) == "length"

    def test_carton_of_boxes(self) -> None:
        packs = {**BOX_OF_100, "CT": PackSize(Decimal(12), "BX")}
        assert convert(Decimal(1), "CT", "H87", pack_sizes=packs) == Decimal(1200)

    def test_pack_unit_without_size_is_refused(self) -> None:
        with pytest.raises(UnknownUnit) as raised:
            convert(Decimal(1), "BX", "H87")
        assert raised.value.code == "catalog.pack_size_missing"

    def test_pack_of_length_is_not_pieces(self) -> None:
        with pytest.raises(IncompatibleUnits):
            convert(Decimal(1), "RO", "H87", pack_sizes={"RO": PackSize(Decimal(100), "MTR")})

    def test_pack_cycle_is_refused(self) -> None:
        packs = {"BX": PackSize(Decimal(2), "PK"), "PK": PackSize(Decimal(2), "BX")}
        with pytest.raises(UnknownUnit) as raised:
            convert(Decimal(1), "BX", "H87", pack_sizes=packs)
        assert raised.value.code == "catalog.pack_size_invalid"


class TestPrecision:
    def test_long_decimals_are_not_rounded_by_the_decimal_context(self) -> None:
        quantity = Decimal("1.234567890123456789012345678901234567")
        assert convert(quantity, "MTR", "MMT") == Decimal("1234.567890123456789012345678901234567")

    def test_rounding_on_request_keeps_the_places(self) -> None:
        assert str(convert(Decimal(212), "FAH", "CEL", places=2)) == "100.00"
