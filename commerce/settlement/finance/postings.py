"""The journal lines of supply-chain finance, as pure functions (the property tests drive them directly).

Every function returns lines that balance for each organization on its own:

- assignment (factoring): the supplier turns its receivable into money now, less the discount; the financier
  pays that money and now holds the receivable, earning the discount;
- settlement at maturity: the buyer pays its payable to the financier, whose receivable is cleared;
- early payment (dynamic discounting): the buyer pays the supplier now, less the discount it earns.
"""

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

from commerce.settlement.journal import AccountKind as A
from commerce.settlement.journal import Line

CENT = Decimal("0.01")
DAY_COUNT = 360  # money-market convention for discounting receivables in CNY


def discount_for(amount: Decimal, annual_rate_pct: Decimal, days: int) -> Decimal:
    """Simple discount, actual/360, rounded half-up to the cent: ``amount × rate × days / 360``."""
    return (amount * annual_rate_pct / 100 * days / DAY_COUNT).quantize(CENT, rounding=ROUND_HALF_UP)


def days_until(maturity: dt.date, today: dt.date) -> int:
    return max((maturity - today).days, 0)


def assignment_lines(*, supplier: uuid.UUID, financier: uuid.UUID, amount: Decimal, discount: Decimal) -> list[Line]:
    advance = amount - discount
    lines = [Line.dr(supplier, A.BANK, advance), Line.dr(supplier, A.FINANCING, discount),
             Line.cr(supplier, A.RECEIVABLE, amount),
             Line.dr(financier, A.RECEIVABLE, amount), Line.cr(financier, A.BANK, advance),
             Line.cr(financier, A.FINANCING, discount)]
    return [line for line in lines if line.debit or line.credit]


def settlement_lines(*, buyer: uuid.UUID, financier: uuid.UUID, amount: Decimal) -> list[Line]:
    return [Line.dr(buyer, A.PAYABLE, amount), Line.cr(buyer, A.BANK, amount),
            Line.dr(financier, A.BANK, amount), Line.cr(financier, A.RECEIVABLE, amount)]


def early_payment_lines(*, buyer: uuid.UUID, supplier: uuid.UUID, amount: Decimal, discount: Decimal) -> list[Line]:
    paid = amount - discount
    lines = [Line.dr(buyer, A.PAYABLE, amount), Line.cr(buyer, A.BANK, paid), Line.cr(buyer, A.FINANCING, discount),
             Line.dr(supplier, A.BANK, paid), Line.dr(supplier, A.FINANCING, discount),
             Line.cr(supplier, A.RECEIVABLE, amount)]
    return [line for line in lines if line.debit or line.credit]
