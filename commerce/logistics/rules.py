"""Logistics rules without I/O: quantities, states, and which tracking step may follow which."""

from decimal import Decimal
from enum import StrEnum

from catalog.errors import UnknownUnit
from catalog.units import get_unit
from commerce.logistics.errors import QuantityInvalid


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    ISSUE = "issue"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    ADJUSTMENT = "adjustment"


class ShipmentStatus(StrEnum):
    DRAFT = "draft"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class TrackingState(StrEnum):
    PENDING = "pending"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


# The carrier's states in their order; an exception may happen at any point and the journey resumes from it.
TRACKING_ORDER = (TrackingState.PENDING, TrackingState.PICKED_UP, TrackingState.IN_TRANSIT,
                  TrackingState.OUT_FOR_DELIVERY, TrackingState.DELIVERED)


def tracking_step_allowed(current: TrackingState, new: TrackingState) -> bool:
    """Forward only (a late, older carrier event must not move a parcel backwards); delivered is final."""
    if current is TrackingState.DELIVERED:
        return False
    if new is TrackingState.EXCEPTION or current is TrackingState.EXCEPTION:
        return True
    return TRACKING_ORDER.index(new) > TRACKING_ORDER.index(current)


def is_piece_counted(unit: str) -> bool:
    """Pieces, boxes, sets, rolls … are counted in whole units; masses, lengths and volumes are not."""
    return get_unit(unit).dimension == "count"


def checked_quantity(quantity: Decimal, unit: str, *, pointer: str, allow_zero: bool = False) -> Decimal:
    """A positive quantity (or zero when allowed), whole for piece-counted units; else a 422 naming the field."""
    try:
        whole_only = is_piece_counted(unit)
    except UnknownUnit as exc:
        raise QuantityInvalid(f"Unknown unit {unit}.", code="unit_unknown",
                              errors=[{"pointer": pointer, "detail": "unknown unit"}]) from exc
    problem = (
        "must be a finite number" if not quantity.is_finite()
        else "cannot be negative" if quantity < 0
        else "must be more than zero" if quantity == 0 and not allow_zero
        else f"{unit} is counted in whole units" if whole_only and quantity != quantity.to_integral_value()
        else None
    )
    if problem:
        raise QuantityInvalid(f"Quantity {quantity} {unit}: {problem}.",
                              errors=[{"pointer": pointer, "detail": problem}])
    return quantity
