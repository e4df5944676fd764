"""Shared field types: exact decimals that refuse floats, unit codes, currencies, Incoterms."""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

# Active ISO 4217 codes a trade on the platform is likely to be priced in. A short, explicit list: a typo
# such as "RMB" or "CNH" (not ISO 4217 codes) must not become a currency nobody can settle.
CURRENCIES = frozenset({
    "AED", "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD", "HUF", "IDR", "INR", "JPY",
    "KRW", "MXN", "MYR", "NOK", "NZD", "PHP", "PLN", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "USD",
    "VND", "ZAR",
})


class Incoterm(StrEnum):
    """Incoterms 2020: the seven for any mode of transport, then the four for sea and inland waterway."""

    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"


def _no_float(value: Any) -> Any:
    """Money and quantities travel as strings (or integers): a JSON float is already rounded in binary."""
    if isinstance(value, bool | float):
        raise ValueError("give the number as a string, e.g. \"12.50\" (floats are not exact)")
    return value


def _known_currency(value: Any) -> Any:
    if isinstance(value, str) and value not in CURRENCIES:
        raise ValueError(f"{value!r} is not an accepted ISO 4217 currency code")
    return value


Money = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, max_digits=18, decimal_places=4)]
Quantity = Annotated[Decimal, BeforeValidator(_no_float), Field(ge=0, max_digits=18, decimal_places=6)]
PositiveQuantity = Annotated[Decimal, BeforeValidator(_no_float), Field(gt=0, max_digits=18, decimal_places=6)]
UnitCode = Annotated[str, Field(pattern=r"^[0-9A-Z]{2,3}$", description="UN/ECE Recommendation 20 code")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217"), BeforeValidator(_known_currency)]


def _plain(value: Decimal) -> str:
    """The exact value without padding zeros or exponent: 12.0000 → "12", 80.500000 → "80.5", 1E+2 → "100"."""
    return format(value.normalize(), "f")


# Decimals in responses: strings, the same whether the value came from the request or from the database.
DecimalText = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]
