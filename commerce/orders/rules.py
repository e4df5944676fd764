"""The order's business rules without I/O: money per line, the state machine, who may do what, approvals.

Money: a line's net is ``quantity × unit_price`` and its tax ``net × rate``, each rounded half-up to
2 places (the fen/cent of the invoice); gross is net + tax. Order totals are the sums of the lines, so the
order always equals what its lines say.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from catalog.units import get_unit
from tradeloom.errors import Forbidden
from tradeloom.identity.roles import Permission

CENTS = Decimal("0.01")


class OrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waiting for the buyer's approvers
    SENT = "sent"  # approved (or needing no approval) and in the supplier's inbox
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    IN_PRODUCTION = "in_production"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class OrderSource(StrEnum):
    CART = "cart"
    AWARD = "award"
    CALL_OFF = "call_off"
    ERP = "erp"  # placed by the buyer's ERP through the bulk API (integrations.bulk)


class TaxRate(StrEnum):
    """China VAT rates on goods and services, and exempt supplies."""

    STANDARD = "13"
    REDUCED = "9"
    SERVICES = "6"
    ZERO = "0"
    EXEMPT = "exempt"

    @property
    def fraction(self) -> Decimal:
        return Decimal(0) if self is TaxRate.EXEMPT else Decimal(self.value) / 100


class Party(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: TaxRate | Decimal) -> LineAmounts:
    """Net and tax each rounded half-up to 2 places; gross is their sum. The rate is a China VAT rate or, for
    rates configured elsewhere (settlement's tax-rate table), the exact fraction (``Decimal("0.05")``)."""
    fraction = tax_rate.fraction if isinstance(tax_rate, TaxRate) else tax_rate
    net = (quantity * unit_price).quantize(CENTS, rounding=ROUND_HALF_UP)
    tax = (net * fraction).quantize(CENTS, rounding=ROUND_HALF_UP)
    return LineAmounts(net, tax, net + tax)


def order_totals(lines: Iterable[LineAmounts]) -> LineAmounts:
    """The order's totals: the sums of its lines (never recomputed from a total)."""
    items = list(lines)
    return LineAmounts(sum((x.net for x in items), Decimal(0)), sum((x.tax for x in items), Decimal(0)),
                       sum((x.gross for x in items), Decimal(0)))


@dataclass(frozen=True)
class Step:
    """One transition: from which states, to which state, by which party holding which permission."""

    action: str
    sources: frozenset[OrderStatus]
    target: OrderStatus
    party: Party
    permission: Permission
    topic: str


def _step(action: str, sources: Iterable[OrderStatus], target: OrderStatus, party: Party,
          permission: Permission, topic: str) -> Step:
    return Step(action, frozenset(sources), target, party, permission, topic)


S = OrderStatus
BUYER, SUPPLIER = Party.BUYER, Party.SUPPLIER
STEPS: dict[str, Step] = {step.action: step for step in (
    _step("submit", [S.DRAFT], S.SUBMITTED, BUYER, Permission.ORDER_CREATE, "order.submitted"),
    _step("approve", [S.SUBMITTED], S.SENT, BUYER, Permission.ORDER_APPROVE, "order.approved"),
    _step("reject-approval", [S.SUBMITTED], S.DRAFT, BUYER, Permission.ORDER_APPROVE, "order.approval_rejected"),
    _step("confirm", [S.SENT], S.CONFIRMED, SUPPLIER, Permission.ORDER_CONFIRM, "order.confirmed"),
    _step("reject", [S.SENT], S.REJECTED, SUPPLIER, Permission.ORDER_CONFIRM, "order.rejected"),
    _step("start-production", [S.CONFIRMED], S.IN_PRODUCTION, SUPPLIER, Permission.ORDER_CONFIRM,
          "order.in_production"),
    _step("ship-partially", [S.CONFIRMED, S.IN_PRODUCTION, S.PARTIALLY_SHIPPED], S.PARTIALLY_SHIPPED, SUPPLIER,
          Permission.SHIPMENT_MANAGE, "order.partially_shipped"),
    _step("ship", [S.CONFIRMED, S.IN_PRODUCTION, S.PARTIALLY_SHIPPED], S.SHIPPED, SUPPLIER,
          Permission.SHIPMENT_MANAGE, "order.shipped"),
    _step("receive", [S.SHIPPED], S.RECEIVED, BUYER, Permission.GOODS_RECEIPT, "order.received"),
    _step("close", [S.RECEIVED], S.CLOSED, BUYER, Permission.ORDER_CREATE, "order.closed"),
)}

class SimpleStep(StrEnum):
    """Steps with no rule beyond party, version and status."""

    START_PRODUCTION = "start-production"
    SHIP_PARTIALLY = "ship-partially"
    SHIP = "ship"
    RECEIVE = "receive"
    CLOSE = "close"


# Who may cancel when: the buyer until the supplier has committed (confirmed); after that only a change
# order both parties agree can reduce the order. The supplier never cancels: it rejects a sent order.
CANCELLABLE_BY_BUYER = frozenset({S.DRAFT, S.SUBMITTED, S.SENT})
CANCEL = _step("cancel", CANCELLABLE_BY_BUYER, S.CANCELLED, BUYER, Permission.ORDER_CREATE, "order.cancelled")

# States in which the supplier has committed and a change order is the way to alter the lines.
CHANGEABLE = frozenset({S.CONFIRMED, S.IN_PRODUCTION})
# Buyers (who order) and supplier sales (who confirm) negotiate change orders.
CHANGE_PERMISSIONS = frozenset({Permission.ORDER_CREATE, Permission.ORDER_CONFIRM})


def require_change_permission(permissions: frozenset[Permission]) -> None:
    """Proposing, answering and withdrawing change orders needs one of ``CHANGE_PERMISSIONS``."""
    if CHANGE_PERMISSIONS.isdisjoint(permissions):
        raise Forbidden("Your role can neither order nor confirm orders.", code="permission_denied")

# Budget is reserved from submission until the order is cancelled, rejected or sent back to draft.
RELEASES_BUDGET = frozenset({S.CANCELLED, S.REJECTED, S.DRAFT})


@dataclass(frozen=True)
class RuleView:
    """What approval needs to know about a rule."""

    currency: str
    min_amount: Decimal
    class_prefix: str | None
    approvals_required: int


def approvals_needed(rules: Sequence[RuleView], *, currency: str, gross: Decimal, classes: Iterable[str]) -> int:
    """The most approvals any applicable rule asks for (0: no rule applies, the order goes straight out)."""
    class_codes = list(classes)
    needed = 0
    for rule in rules:
        if rule.currency != currency or gross < rule.min_amount:
            continue
        if rule.class_prefix and not any(code.startswith(rule.class_prefix) for code in class_codes):
            continue
        needed = max(needed, rule.approvals_required)
    return needed


def party_of(org_id: uuid.UUID, *, buyer_org_id: uuid.UUID, supplier_org_id: uuid.UUID) -> Party | None:
    if org_id == buyer_org_id:
        return Party.BUYER
    if org_id == supplier_org_id:
        return Party.SUPPLIER
    return None


def is_whole_quantity(unit: str, quantity: Decimal) -> bool:
    """Pieces, pairs, boxes, rolls … are ordered in whole units; masses, lengths, volumes in any amount."""
    return get_unit(unit).dimension != "count" or quantity == quantity.to_integral_value()
