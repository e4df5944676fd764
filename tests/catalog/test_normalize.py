import json
from importlib import resources

import pytest

from catalog.normalize import canonical_tokens, expand_query_tokens, normalize_text, search_tokens, segment


class TestNormalizeText:
    @pytest.mark.parametrize(
        ("variant", "canonical"),
        [
            ("M8×30", "m8x30"),
            ("m8x30", "m8x30"),
            ("M8*30", "m8x30"),
            ("M8 X 30", "m8x30"),
            ("Ｍ８×３０", "m8x30"),
            ("ＳＳ３０４", "ss304"),
            ("SS304", "ss304"),
            ("1200 × 1000 × 150", "1200x1000x150"),
            ("A2–70", "a2-70"),
            ("  GB/T\u3000 5782 ", "gb/t 5782"),
        ],
    )
    def test_variants_are_equal(self, variant: str, canonical: str) -> None:
        assert normalize_text(variant) == canonical

    def test_x_between_letters_is_kept(self) -> None:
        assert normalize_text("Box X") == "box x"


class TestSegment:
    def test_chinese_name_with_size(self) -> None:
        assert segment("不锈钢六角螺栓M8x30") == ["不锈钢", "六角", "螺栓", "m8x30"]

    def test_codes_stay_whole(self) -> None:
        assert segment("ＳＳ３０４ Hex Bolt M8×30, GB/T 5782 8.8 A2-70 45#钢") == [
            "ss304", "hex", "bolt", "m8x30", "gb/t", "5782", "8.8", "a2-70", "45#", "钢",
        ]

    def test_domain_words(self) -> None:
        assert segment("深沟球轴承6205-2RS") == ["深沟球轴承", "6205-2rs"]
        assert segment("法兰") == ["法兰"]

    def test_punctuation_is_dropped(self) -> None:
        assert segment("螺栓（M8），螺母、垫圈!") == ["螺栓", "m8", "螺母", "垫圈"]


class TestSearchTokens:
    def test_finer_parts_are_added_once(self) -> None:
        assert search_tokens("深沟球轴承 M8x30 轴承") == ["深沟球轴承", "深沟", "轴承", "球轴承", "m8x30", "m8", "30"]

    def test_english_and_chinese(self) -> None:
        assert search_tokens("Stainless 不锈钢") == ["stainless", "不锈钢", "不锈"]


class TestSynonyms:
    def test_table_has_enough_groups_and_no_term_twice(self) -> None:
        document = json.loads(resources.files("catalog.data").joinpath("synonyms.json").read_text("utf-8"))
        terms = [term for group in document["groups"] for term in group["terms"]]
        keys = {group["key"] for group in document["groups"]}
        assert len(document["groups"]) >= 60
        assert len(terms) == len(set(terms))
        assert all(specific in keys and general in keys for specific, general in document["implies"])

    def test_equal_terms_expand_both_ways(self) -> None:
        assert {"bolt", "bolts"} <= expand_query_tokens(["螺栓"])
        assert "螺栓" in expand_query_tokens(["bolt"])
        assert {"轴承", "bearing"} <= expand_query_tokens(["bearings"])

    def test_general_term_finds_the_grade(self) -> None:
        assert {"ss304", "sus304", "ss316", "stainless steel"} <= expand_query_tokens(["不锈钢"])

    def test_grade_does_not_widen_to_other_grades(self) -> None:
        assert expand_query_tokens(["ss304"]) == {"ss304", "304", "sus304", "aisi 304", "06cr19ni10", "0cr18ni9"}

    def test_multi_word_phrase_is_recognised(self) -> None:
        expanded = expand_query_tokens(segment("stainless steel flange"))
        assert {"不锈钢", "ss316l", "法兰", "flanges"} <= expanded

    def test_unknown_tokens_pass_through(self) -> None:
        assert expand_query_tokens(["m8x30"]) == {"m8x30"}

    def test_canonical_tokens_fold_languages_and_spellings(self) -> None:
        english = canonical_tokens(segment("Stainless Steel Hexagon Bolts M8×30"))
        chinese = canonical_tokens(segment("不锈钢外六角螺栓 m8*30"))
        assert english == chinese == ["~stainless_steel", "~hex", "~bolt", "m8x30"]
