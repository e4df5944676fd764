from tradeloom.identity.uscc import check_character, uscc_problem


class TestUnifiedSocialCreditCode:
    def test_accepts_a_published_code(self) -> None:
        # given a code printed on a real business licence (Xiaomi Communications, Beijing)
        code = "91110108558521630L"
        # then
        assert uscc_problem(code) is None
        assert check_character(code[:17]) == "L"

    def test_rejects_a_wrong_check_character(self) -> None:
        assert uscc_problem("91110108558521630M") == "check character should be L"

    def test_rejects_letters_outside_the_alphabet(self) -> None:
        assert uscc_problem("91110108558521630I") == "contains characters not allowed by GB 32100: I"

    def test_rejects_wrong_length(self) -> None:
        assert uscc_problem("9111010855852163") == "must be 18 characters"
