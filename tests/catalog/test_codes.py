import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog.codes import (
    ALPHABET,
    MAX_SEQUENCE,
    check_material_code,
    gtin_problem,
    material_code,
    mod37_36_check_character,
    mod37_36_is_valid,
)
from catalog.errors import InvalidMaterialCode

class_codes = st.integers(min_value=1, max_value=4).flatmap(
    lambda levels: st.text(alphabet="0123456789", min_size=2 * levels, max_size=2 * levels)
)
sequences = st.integers(min_value=1, max_value=MAX_SEQUENCE)


class TestMod3736:
    def test_known_answer_from_the_grid_standard(self) -> None:
        # GRid A1-2425G-ABC1234002-M is protected by ISO/IEC 7064 MOD 37,36.
        assert mod37_36_check_character("A12425GABC1234002") == "M"
        assert mod37_36_is_valid("A12425GABC1234002M")
        assert not mod37_36_is_valid("A12425GABC1234002N")

    def test_refuses_characters_outside_the_alphabet(self) -> None:
        with pytest.raises(InvalidMaterialCode):
            mod37_36_check_character("10-01")


class TestMaterialCode:
    def test_shape(self) -> None:
        assert material_code("100101", 42) == "100101-000042Z"
        assert material_code("1301", 1) == "1301-000001" + mod37_36_check_character("1301000001")

    def test_valid_code_has_no_problem(self) -> None:
        assert check_material_code("100101-000042Z") is None

    def test_wrong_check_character_is_rejected(self) -> None:
        assert check_material_code("100101-000042Y") == "'100101-000042Y' has a wrong check character (mistyped code?)"

    @pytest.mark.parametrize(
        "code", ["100101000042Z", "100101-42Z", "10010-000042Z", "100101-000042z", "100101-000042", ""]
    )
    def test_malformed_code_is_rejected(self, code: str) -> None:
        assert check_material_code(code) == f"{code!r} is not shaped like <class code>-<6 digits><check character>"

    def test_sequence_zero_is_rejected(self) -> None:
        code = "100101-000000" + mod37_36_check_character("100101000000")
        assert check_material_code(code) == f"{code!r} has sequence 000000; sequences start at 1"

    @pytest.mark.parametrize(("class_code", "sequence"), [("1", 1), ("10010", 1), ("AB", 1), ("10", 0),
                                                          ("10", MAX_SEQUENCE + 1), ("10", True)])
    def test_bad_parts_are_refused(self, class_code: str, sequence: int) -> None:
        with pytest.raises(InvalidMaterialCode):
            material_code(class_code, sequence)

    @given(class_codes, sequences)
    def test_every_generated_code_validates(self, class_code: str, sequence: int) -> None:
        assert check_material_code(material_code(class_code, sequence)) is None

    @given(class_codes, sequences, st.data())
    def test_any_single_character_change_is_detected(self, class_code: str, sequence: int, data: st.DataObject) -> None:
        code = material_code(class_code, sequence)
        position = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
        replacement = data.draw(st.sampled_from(ALPHABET + "-").filter(lambda char: char != code[position]))
        changed = code[:position] + replacement + code[position + 1:]
        assert check_material_code(changed) is not None

    @given(class_codes, sequences)
    def test_sequence_is_zero_padded_to_six_digits(self, class_code: str, sequence: int) -> None:
        code = material_code(class_code, sequence)
        assert code.split("-")[1][:-1] == f"{sequence:06d}"


class TestGtin:
    @pytest.mark.parametrize("gtin", ["96385074", "036000291452", "4006381333931", "10614141000415"])
    def test_valid_gtins(self, gtin: str) -> None:
        assert gtin_problem(gtin) is None

    def test_wrong_check_digit(self) -> None:
        assert gtin_problem("4006381333932") == "GTIN '4006381333932' has a wrong check digit; expected 1"

    @pytest.mark.parametrize("gtin", ["123", "963850745", "123456789012345"])
    def test_wrong_length(self, gtin: str) -> None:
        assert gtin_problem(gtin) == f"GTIN {gtin!r} has {len(gtin)} digits; a GTIN has 8, 12, 13 or 14"

    @pytest.mark.parametrize("gtin", ["4006381333931 ", "400638133393１", "4006-381333931", ""])
    def test_only_ascii_digits(self, gtin: str) -> None:
        assert gtin_problem(gtin) == f"GTIN {gtin!r} must consist of the digits 0-9 only"
