"""The adapter through which fapiao would be issued in the national tax system (税务 UKey / 数电票 platform).

Issuing real fapiao is out of reach here: the platform records fapiao the supplier issued elsewhere (number,
type, amounts, the PDF/OFD file). An integration implements ``FapiaoIssuer`` and is installed with
``install_issuer``; until then ``issuer()`` refuses with 503 ``fapiao_issuer_unavailable``.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from tradeloom.errors import Unavailable


@dataclass(frozen=True)
class FapiaoLine:
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: str
    net: Decimal
    tax: Decimal


@dataclass(frozen=True)
class FapiaoRequest:
    fapiao_type: str
    seller_name: str
    seller_uscc: str
    buyer_name: str
    buyer_uscc: str
    lines: tuple[FapiaoLine, ...]
    red_letter_of: str | None = None  # a credit note (红字发票) names the fapiao number it reverses


@dataclass(frozen=True)
class IssuedFapiao:
    number: str
    issue_date: dt.date
    file_name: str
    file_content: bytes


class FapiaoIssuer(Protocol):
    async def issue(self, request: FapiaoRequest) -> IssuedFapiao: ...


class NoIssuer:
    """What the platform has until a tax-system integration is installed."""

    async def issue(self, request: FapiaoRequest) -> IssuedFapiao:
        raise Unavailable("Fapiao cannot be issued through the tax system from this platform; record the fapiao "
                          "you issued and attach its file.", code="fapiao_issuer_unavailable")


_issuer: FapiaoIssuer = NoIssuer()


def install_issuer(new_issuer: FapiaoIssuer) -> None:
    global _issuer
    _issuer = new_issuer


def issuer() -> FapiaoIssuer:
    return _issuer
