"""Settlement rules without I/O: invoice money, the three-way match of one line, payment terms and due dates.

Rounding (the same rule as purchase orders, so that an invoice of a whole order equals the order): a line's
net is ``quantity × unit_price`` and its tax ``net × rate``, each rounded half-up to 2 places (fen/cent);
gross = net + tax. An invoice's totals are the sums of its lines, never recomputed from a total.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from commerce.orders.rules import LineAmounts, TaxRate, line_amounts, order_totals

__all__ = ["LineAmounts", "TaxRate", "invoice_totals", "line_amounts"]

invoice_totals = order_totals
HUNDRED = Decimal(100)
CENTS = Decimal("0.01")


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    DEBIT_NOTE = "debit_note"


class FapiaoType(StrEnum):
    SPECIAL = "special"  # 增值税专用发票: the buyer may deduct input VAT
    ORDINARY = "ordinary"  # 增值税普通发票
    ELECTRONIC = "electronic"  # 全电发票 / 数电票


class InvoiceStatus(StrEnum):
    APPROVED = "approved"  # every line matched or its variance accepted: approved for payment
    EXCEPTION = "exception"  # some line waits for the buyer's resolution (or for a credit note)
    REJECTED = "rejected"  # the buyer refused a line: the invoice is void and reversed in the journal


class LineMatch(StrEnum):
    MATCHED = "matched"
    EXCEPTION = "exception"
    ACCEPTED = "accepted"  # variance accepted by the buyer
    REJECTED = "rejected"
    CREDIT_REQUESTED = "credit_requested"  # the buyer waits for a credit note for the variance


class Resolution(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_CREDIT_NOTE = "request_credit_note"


RESOLVED_STATE = {Resolution.ACCEPT: LineMatch.ACCEPTED, Resolution.REJECT: LineMatch.REJECTED,
                  Resolution.REQUEST_CREDIT_NOTE: LineMatch.CREDIT_REQUESTED}


@dataclass(frozen=True)
class Tolerances:
    """How far (in %) an invoice may go above the purchase order's price and the received quantity."""

    quantity_pct: Decimal = Decimal(0)
    price_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class MatchInput:
    """One invoice line against its order line: ``invoiced_total`` counts this line and every earlier
    invoice of the order line (credit-noted quantities removed)."""

    ordered: Decimal
    order_price: Decimal
    received: Decimal
    invoiced_total: Decimal
    invoice_price: Decimal


def _allowance(amount: Decimal, pct: Decimal) -> Decimal:
    return amount * (1 + pct / HUNDRED)


def exceeds_ordered(line: MatchInput, tolerances: Tolerances) -> bool:
    """Invoicing more than was ordered (beyond the quantity tolerance) is refused outright."""
    return line.invoiced_total > _allowance(line.ordered, tolerances.quantity_pct)


def match_reasons(line: MatchInput, tolerances: Tolerances) -> list[dict[str, str]]:
    """Why a line does not match (empty: matched). A price below the order's is no exception."""
    reasons = []
    if line.invoiced_total > _allowance(line.received, tolerances.quantity_pct):
        reasons.append({"code": "quantity_not_received", "detail": f"invoiced {line.invoiced_total.normalize():f}, "
                                                                     f"received {line.received.normalize():f}"})
    if line.invoice_price > _allowance(line.order_price, tolerances.price_pct):
        reasons.append({"code": "price_above_order",
                        "detail": f"invoiced {line.invoice_price.normalize():f}, ordered at "
                                  f"{line.order_price.normalize():f}"})
    return reasons


def invoice_status(line_states: list[LineMatch]) -> InvoiceStatus:
    """Rejected if any line is; approved when every line is matched or accepted; otherwise an exception."""
    if LineMatch.REJECTED in line_states:
        return InvoiceStatus.REJECTED
    if all(state in (LineMatch.MATCHED, LineMatch.ACCEPTED) for state in line_states):
        return InvoiceStatus.APPROVED
    return InvoiceStatus.EXCEPTION


_NET_DAYS = re.compile(r"(?:net\s*|N)(\d{1,3})|(\d{1,3})\s*(?:days|天)", re.IGNORECASE)
DEFAULT_NET_DAYS = 30


def net_days(payment_terms: str) -> int:
    """The credit period in an order's terms text ("NET30", "net 60 days", "30天"); 30 days when not stated."""
    found = _NET_DAYS.search(payment_terms or "")
    return int(found.group(1) or found.group(2)) if found else DEFAULT_NET_DAYS


def due_date(issue_date: dt.date, payment_terms: str) -> dt.date:
    return issue_date + dt.timedelta(days=net_days(payment_terms))


def is_overdue(due: dt.date, outstanding: Decimal, today: dt.date) -> bool:
    return outstanding > 0 and due < today


class Milestone(StrEnum):
    """When a share of an order falls due."""

    CONFIRMATION = "confirmation"  # prepayment: due when the supplier confirms
    SHIPMENT = "shipment"
    RECEIPT = "receipt"
    INVOICE = "invoice"  # the rest: net N days after the invoice


@dataclass(frozen=True)
class Installment:
    milestone: Milestone
    percent: Decimal


_PERCENT = re.compile(r"(\d{1,3}(?:\.\d{1,2})?)\s*%")
_MILESTONE_WORDS = (
    (Milestone.CONFIRMATION, ("prepay", "advance", "confirm", "预付", "确认")),
    (Milestone.SHIPMENT, ("ship", "发货")),
    (Milestone.RECEIPT, ("receipt", "receiv", "收货", "到货")),
)
ORDER_EVENTS = {"order.confirmed": Milestone.CONFIRMATION, "order.shipped": Milestone.SHIPMENT,
                "order.partially_shipped": Milestone.SHIPMENT, "order.received": Milestone.RECEIPT}


def _milestone_of(clause: str) -> Milestone:
    lowered = clause.lower()
    return next((milestone for milestone, words in _MILESTONE_WORDS if any(word in lowered for word in words)),
                Milestone.INVOICE)


def payment_schedule(payment_terms: str) -> list[Installment]:
    """The order's terms text as shares by milestone, e.g. "30% prepayment, 60% on shipment, net 30" or
    "预付30%，收货后70%"; what the shares leave over is due net N days after the invoice. Shares adding up to
    more than 100 % are not terms we can read: the whole amount is then due after the invoice."""
    shares: dict[Milestone, Decimal] = {}
    for clause in re.split(r"[,;，；]", payment_terms or ""):
        found = _PERCENT.search(clause)
        if found:
            milestone = _milestone_of(clause)
            shares[milestone] = shares.get(milestone, Decimal(0)) + Decimal(found.group(1))
    if sum(shares.values(), Decimal(0)) > HUNDRED:
        shares = {}
    rest = HUNDRED - sum(shares.values(), Decimal(0))
    if rest:
        shares[Milestone.INVOICE] = shares.get(Milestone.INVOICE, Decimal(0)) + rest
    return [Installment(milestone, shares[milestone]) for milestone in Milestone if milestone in shares]


def installment_due(installment: Installment, *, reached: dict[Milestone, dt.date], payment_terms: str,
                    invoice_date: dt.date | None) -> dt.date | None:
    """When a share is due: the day its milestone was reached (the invoice's due date for the rest); None
    while the milestone lies ahead."""
    if installment.milestone is Milestone.INVOICE:
        return due_date(invoice_date, payment_terms) if invoice_date else None
    return reached.get(installment.milestone)


MILESTONE_REQUESTS = (Milestone.CONFIRMATION, Milestone.SHIPMENT, Milestone.RECEIPT)  # shares paid on request
_BEFORE_PRODUCTION = ("before production", "before manufacturing", "生产前", "投产前")


def milestone_share(payment_terms: str, milestone: Milestone) -> Decimal:
    """The percentage of the order the terms put on ``milestone`` (0: none)."""
    return next((item.percent for item in payment_schedule(payment_terms) if item.milestone is milestone),
                Decimal(0))


def share_amount(gross_total: Decimal, percent: Decimal) -> Decimal:
    """A share of the order's gross total, rounded half-up to the cent (like every line amount)."""
    return (gross_total * percent / HUNDRED).quantize(CENTS, rounding=ROUND_HALF_UP)


def prepayment_gates(payment_terms: str, action: str) -> bool:
    """Whether the prepayment must be paid before the order's ``action``: always before shipping; before
    production only when the terms say so ("30% prepayment before production", "生产前预付30%")."""
    if action in ("ship", "ship-partially"):
        return True
    lowered = (payment_terms or "").lower()
    return action == "start-production" and any(words in lowered for words in _BEFORE_PRODUCTION)
