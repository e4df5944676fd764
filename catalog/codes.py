"""Unified material codes and GS1 GTIN check digits.

A material code is ``<class code>-<sequence><check character>``, e.g. ``100101-000042`` plus one check
character: the leaf class code, a six-digit zero-padded sequence within that class, and an ISO/IEC 7064
MOD 37,36 check character computed over the class code and the sequence (without the hyphen).

Why MOD 37,36: it is the standard's hybrid system for alphanumeric data, so the check character is always
one of 0-9/A-Z (MOD 37-2 can yield "*", MOD 11-2 "X", MOD 97-10 needs two characters). It detects every
single-character substitution and nearly all adjacent transpositions, which are the typing errors people
make when they key a code from a label or a paper order; Luhn misses some of those (09 ↔ 90). The same
system protects GRid, so it is well tested in the field, and it keeps working if class codes ever carry
letters.

GTIN-8/12/13/14 use the GS1 mod-10 check digit, written out here: it is a few lines, and a library that
accepts full-width digits or surrounding spaces would let malformed identifiers into master data.
"""

import re

from catalog.errors import InvalidMaterialCode

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MODULUS = len(ALPHABET)
SEQUENCE_DIGITS = 6
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1
CLASS_CODE = re.compile(r"(?:[0-9]{2}){1,4}")
MATERIAL_CODE = re.compile(rf"(?P<class_code>{CLASS_CODE.pattern})-(?P<sequence>[0-9]{{{SEQUENCE_DIGITS}}})"
                           r"(?P<check>[0-9A-Z])")
_GTIN_LENGTHS = (8, 12, 13, 14)
_ASCII_DIGITS = re.compile(r"[0-9]+")


def _mod37_36_state(data: str) -> int:
    """Run the ISO/IEC 7064 hybrid recursion (M = 36) over the data; returns the product P."""
    product = _MODULUS
    for char in data:
        total = (product + ALPHABET.index(char)) % _MODULUS or _MODULUS
        product = (total * 2) % (_MODULUS + 1)
    return product


def mod37_36_check_character(data: str) -> str:
    """The MOD 37,36 check character for uppercase alphanumeric data (e.g. "A12425GABC1234002" → "M")."""
    if not data or any(char not in ALPHABET for char in data):
        raise InvalidMaterialCode(f"Check characters are computed over 0-9 and A-Z only, not {data!r}.")
    return ALPHABET[(_MODULUS + 1 - _mod37_36_state(data)) % _MODULUS]


def mod37_36_is_valid(data_with_check: str) -> bool:
    """True when the last character is the right MOD 37,36 check character for the rest."""
    if len(data_with_check) < 2 or any(char not in ALPHABET for char in data_with_check):
        return False
    return mod37_36_check_character(data_with_check[:-1]) == data_with_check[-1]


def material_code(class_code: str, sequence: int) -> str:
    """The unified material code for the ``sequence``-th material of a leaf class."""
    if not CLASS_CODE.fullmatch(class_code):
        raise InvalidMaterialCode(f"Class code {class_code!r} is not 2, 4, 6 or 8 digits.")
    if isinstance(sequence, bool) or not 1 <= sequence <= MAX_SEQUENCE:
        raise InvalidMaterialCode(f"Sequence {sequence!r} is outside 1..{MAX_SEQUENCE}.")
    digits = f"{sequence:0{SEQUENCE_DIGITS}d}"
    return f"{class_code}-{digits}{mod37_36_check_character(class_code + digits)}"


def check_material_code(code: str) -> str | None:
    """What is wrong with a material code, or None when it is well formed and its check character fits."""
    match = MATERIAL_CODE.fullmatch(code)
    if match is None:
        return f"{code!r} is not shaped like <class code>-<{SEQUENCE_DIGITS} digits><check character>"
    if int(match["sequence"]) == 0:
        return f"{code!r} has sequence 000000; sequences start at 1"
    expected = mod37_36_check_character(match["class_code"] + match["sequence"])
    if match["check"] != expected:
        return f"{code!r} has a wrong check character (mistyped code?)"
    return None


def gs1_check_digit(payload: str) -> int:
    """GS1 mod-10 check digit of the digits before it: weights 3 and 1 alternate from the right."""
    total = sum(int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def gtin_problem(gtin: str) -> str | None:
    """What is wrong with a GTIN-8/12/13/14, or None when it is valid."""
    if not _ASCII_DIGITS.fullmatch(gtin):
        return f"GTIN {gtin!r} must consist of the digits 0-9 only"
    if len(gtin) not in _GTIN_LENGTHS:
        return f"GTIN {gtin!r} has {len(gtin)} digits; a GTIN has 8, 12, 13 or 14"
    if gs1_check_digit(gtin[:-1]) != int(gtin[-1]):
        return f"GTIN {gtin!r} has a wrong check digit; expected {gs1_check_digit(gtin[:-1])}"
    return None
