import re
from decimal import Decimal

import pytest
from pydantic import ValidationError

from catalog.classes import (
    AttributeProblem,
    AttributeProblemCode,
    AttributeSpec,
    AttributeTemplate,
    CatalogClass,
    TreeProblem,
    TreeProblemCode,
    build_tree,
    change_problems,
    check_attributes,
    find_cycles,
    load_class_tree,
    tree_problems,
    validate_attributes,
)
from catalog.errors import InvalidClassTree

HAN = re.compile(r"[\u4e00-\u9fff]")


def node(code: str, parent: str | None = None) -> CatalogClass:
    return CatalogClass(code=code, name_zh="类", name_en="class", parent=parent)


def hex_bolts() -> AttributeTemplate:
    found = load_class_tree().get("100101")
    assert found is not None
    return found.attributes


class TestSeedTree:
    def test_size(self) -> None:
        tree = load_class_tree()
        assert len(tree.roots()) >= 15
        assert len(tree.leaves()) >= 150

    def test_has_no_cycles_or_broken_links(self) -> None:
        tree = load_class_tree()
        assert tree_problems(tree.classes.values()) == []
        assert find_cycles({code: node.parent for code, node in tree.classes.items()}) == []

    def test_codes_are_two_digits_per_level_under_their_parent(self) -> None:
        for code, item in load_class_tree().classes.items():
            assert len(code) in (2, 4, 6)
            assert item.parent == (code[:-2] or None)

    def test_every_leaf_and_only_leaves_carry_a_template(self) -> None:
        tree = load_class_tree()
        for code, item in tree.classes.items():
            assert bool(item.attributes.attributes) == tree.is_leaf(code), code

    def test_names_in_both_languages(self) -> None:
        for item in load_class_tree().classes.values():
            assert HAN.search(item.name_zh), item.code
            assert item.name_en.isascii() and item.name_en[0].isupper(), item.code

    def test_sibling_names_are_unique(self) -> None:
        tree = load_class_tree()
        for parent in [None, *tree.classes]:
            names = [child.name_zh for child in tree.children(parent)]
            assert len(names) == len(set(names)), parent

    def test_known_unspsc_mappings(self) -> None:
        tree = load_class_tree()
        assert {code: tree.classes[code].unspsc for code in ("1001", "1002", "1003", "1004", "1101")} == {
            "1001": "31161600", "1002": "31161500", "1003": "31161700", "1004": "31161800", "1101": "31171500",
        }

    def test_hex_bolt_template(self) -> None:
        template = hex_bolts()
        assert [spec.key for spec in template.attributes] == [
            "thread", "length_mm", "material", "strength_grade", "surface", "standard",
        ]
        thread, length, material, grade, _, standard = template.attributes
        assert thread.allowed is not None and (thread.allowed[0], thread.allowed[-1]) == ("M3", "M48")
        assert (length.type, length.unit, length.required) == ("number", "MMT", True)
        assert material.allowed == ("carbon steel", "alloy steel", "SS304", "SS316", "brass")
        assert grade.allowed == ("4.8", "6.8", "8.8", "10.9", "12.9", "A2-70", "A4-70", "A4-80")
        assert standard.allowed == ("GB/T 5782", "GB/T 5783", "DIN 931", "DIN 933", "ISO 4014", "ISO 4017")

    def test_path_and_descendants(self) -> None:
        tree = load_class_tree()
        assert [item.code for item in tree.path("100101")] == ["10", "1001", "100101"]
        assert tree.path("99") == []
        assert "100101" in {item.code for item in tree.descendants("10")}

    def test_round_trips_through_json(self) -> None:
        original = load_class_tree().classes["100101"]
        assert CatalogClass.model_validate_json(original.model_dump_json()) == original


class TestTreeProblems:
    def test_duplicate_code(self) -> None:
        assert tree_problems([node("10"), node("10")]) == [
            TreeProblem(TreeProblemCode.DUPLICATE_CODE, "10", "class code 10 is used twice"),
        ]

    def test_missing_parent(self) -> None:
        assert tree_problems([node("1001", "10")]) == [
            TreeProblem(TreeProblemCode.MISSING_PARENT, "1001", "class 1001 has parent 10, which does not exist"),
        ]

    def test_cycle_is_reported_with_its_members(self) -> None:
        problems = tree_problems([node("10", "1001"), node("1001", "100101"), node("100101", "10"), node("20")])
        assert problems == [
            TreeProblem(
                TreeProblemCode.CYCLE, "10", "classes form a cycle: 10 → 1001 → 100101 → 10",
                ("10", "1001", "100101"),
            ),
        ]

    def test_self_parent_is_a_cycle(self) -> None:
        assert find_cycles({"10": "10"}) == [("10",)]

    def test_each_cycle_once_and_tails_into_cycles_are_not_cycles(self) -> None:
        links = {"10": "20", "20": "10", "30": "10", "40": "50", "50": "40", "60": None}
        assert find_cycles(links) == [("10", "20"), ("40", "50")]

    def test_build_tree_refuses_a_broken_tree(self) -> None:
        with pytest.raises(InvalidClassTree) as raised:
            build_tree([node("10", "20"), node("20", "10")])
        assert raised.value.errors == [
            {"code": "cycle", "class": "10", "detail": "classes form a cycle: 10 → 20 → 10"},
        ]


class TestChangeProblems:
    def test_moving_a_group_under_its_own_leaf_is_a_cycle(self) -> None:
        problems = change_problems(load_class_tree(), reparent={"10": "100101"})
        assert [(p.code, p.cycle) for p in problems] == [(TreeProblemCode.CYCLE, ("10", "100101", "1001"))]

    def test_valid_move_has_no_problem(self) -> None:
        assert change_problems(load_class_tree(), reparent={"100101": "1002"}) == []

    def test_removing_a_parent_orphans_its_children(self) -> None:
        problems = change_problems(load_class_tree(), remove={"1004"})
        assert {(p.code, p.class_code) for p in problems} == {
            (TreeProblemCode.MISSING_PARENT, "100401"),
            (TreeProblemCode.MISSING_PARENT, "100402"),
            (TreeProblemCode.MISSING_PARENT, "100403"),
        }

    def test_adding_an_existing_code(self) -> None:
        problems = change_problems(load_class_tree(), add=[node("100101", "1001")])
        assert [p.code for p in problems] == [TreeProblemCode.DUPLICATE_CODE]

    def test_unknown_class(self) -> None:
        problems = change_problems(load_class_tree(), reparent={"999999": "10"})
        assert problems == [TreeProblem(TreeProblemCode.UNKNOWN_CLASS, "999999", "class 999999 does not exist")]


class TestValidateAttributes:
    def test_valid_values(self) -> None:
        values = {"thread": "M8", "length_mm": "30", "material": "SS304", "strength_grade": "A2-70"}
        assert validate_attributes(hex_bolts(), values) == []

    def test_problems_name_the_attribute(self) -> None:
        values = {"thread": "M7", "length_mm": Decimal("0.5"), "colour": "red", "strength_grade": 8.8}
        assert validate_attributes(hex_bolts(), values) == [
            AttributeProblem("colour", AttributeProblemCode.UNKNOWN_ATTRIBUTE, "colour: not in this class"),
            AttributeProblem(
                "thread", AttributeProblemCode.UNKNOWN_VALUE,
                "thread: 'M7' is not one of M3, M4, M5, M6, M8, M10, M12, M14, M16, M18, M20, M22 …",
            ),
            AttributeProblem("length_mm", AttributeProblemCode.OUT_OF_RANGE, "length_mm: 0.5 MMT is below 1 MMT"),
            AttributeProblem("material", AttributeProblemCode.MISSING_REQUIRED, "material: is required"),
            AttributeProblem("strength_grade", AttributeProblemCode.WRONG_TYPE, "strength_grade: expected one of "
                                                                                 "the listed values"),
        ]

    def test_float_is_refused_for_numbers(self) -> None:
        values = {"thread": "M8", "length_mm": 30.0, "material": "SS304"}
        assert validate_attributes(hex_bolts(), values) == [
            AttributeProblem("length_mm", AttributeProblemCode.WRONG_TYPE,
                             "length_mm: give a decimal number (Decimal or text), not 30.0"),
        ]

    def test_number_in_another_unit_is_converted(self) -> None:
        values = {"thread": "M8", "length_mm": {"value": "1.2", "unit": "INH"}, "material": "SS304"}
        checked = check_attributes(hex_bolts(), values)
        assert checked.problems == []
        assert checked.values["length_mm"] == Decimal("30.48")

    def test_number_in_another_dimension_is_refused(self) -> None:
        values = {"thread": "M8", "length_mm": {"value": "1", "unit": "KGM"}, "material": "SS304"}
        assert validate_attributes(hex_bolts(), values) == [
            AttributeProblem("length_mm", AttributeProblemCode.UNIT_MISMATCH,
                             "length_mm: Cannot convert KGM (mass) to MMT (length)."),
        ]


def range_template() -> AttributeTemplate:
    return AttributeTemplate(attributes=(
        AttributeSpec(key="temperature", name_zh="温度", name_en="temperature", type="range", unit="CEL",
                      min=Decimal(-50), max=Decimal(400)),
        AttributeSpec(key="insulated", name_zh="绝缘", name_en="insulated", type="boolean", required=True),
        AttributeSpec(key="note", name_zh="备注", name_en="note", type="text", max_length=5),
    ))


class TestRangesBooleansText:
    def test_valid(self) -> None:
        checked = check_attributes(range_template(), {"temperature": {"min": "-20", "max": "120"}, "insulated": True})
        assert checked.problems == []
        assert checked.values == {"temperature": {"min": Decimal(-20), "max": Decimal(120)}, "insulated": True}

    def test_range_in_kelvin_is_converted(self) -> None:
        value = {"min": "273.15", "max": "373.15", "unit": "KEL"}
        checked = check_attributes(range_template(), {"temperature": value, "insulated": False})
        assert checked.values["temperature"] == {"min": Decimal(0), "max": Decimal(100)}

    def test_problems(self) -> None:
        values = {"temperature": {"min": "100", "max": "20"}, "insulated": "yes", "note": "too long"}
        assert [(p.key, p.code) for p in validate_attributes(range_template(), values)] == [
            ("temperature", AttributeProblemCode.INVALID_RANGE),
            ("insulated", AttributeProblemCode.WRONG_TYPE),
            ("note", AttributeProblemCode.OUT_OF_RANGE),
        ]

    def test_range_needs_both_ends(self) -> None:
        problems = validate_attributes(range_template(), {"temperature": {"min": "1"}, "insulated": True})
        assert [p.code for p in problems] == [AttributeProblemCode.WRONG_TYPE]

    def test_problem_as_problem_json_error(self) -> None:
        problem = AttributeProblem("insulated", AttributeProblemCode.MISSING_REQUIRED, "insulated: is required")
        assert problem.as_error() == {
            "pointer": "/attributes/insulated", "code": "missing_required", "detail": "insulated: is required",
        }


class TestTemplateModel:
    @pytest.mark.parametrize(
        "spec",
        [
            {"type": "enum"},
            {"type": "number", "allowed": ["a"]},
            {"type": "number", "unit": "XYZ"},
            {"type": "text", "unit": "MMT"},
            {"type": "number", "min": "5", "max": "1"},
            {"type": "enum", "allowed": ["a", "a"]},
            {"type": "enum", "allowed": ["a"], "allowed_zh": {"b": "乙"}},
            {"type": "boolean", "min": "0"},
        ],
    )
    def test_inconsistent_specs_are_refused(self, spec: dict[str, object]) -> None:
        with pytest.raises(ValidationError):
            AttributeSpec.model_validate({"key": "k", "name_zh": "甲", "name_en": "k", **spec})

    def test_repeated_keys_are_refused(self) -> None:
        spec = AttributeSpec(key="k", name_zh="甲", name_en="k", type="boolean")
        with pytest.raises(ValidationError):
            AttributeTemplate(attributes=(spec, spec))
