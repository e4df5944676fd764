"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters with a mod-31 check character."""

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The 18th character for the first 17 (which must come from ``ALPHABET``)."""
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return "must be 18 characters"
    bad = sorted({char for char in code if char not in ALPHABET})
    if bad:
        return f"contains characters not allowed by GB 32100: {''.join(bad)}"
    if check_character(code[:17]) != code[17]:
        return f"check character should be {check_character(code[:17])}"
    return None
