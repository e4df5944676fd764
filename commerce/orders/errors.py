"""Order errors with stable codes (rendered as problem+json by the kit)."""

from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound


class OrderNotFound(NotFound):
    default_code = "order_not_found"


class TransitionNotAllowed(Conflict):
    """The order's status does not allow this step (e.g. confirming a draft)."""

    default_code = "order_transition_not_allowed"


class WrongParty(Forbidden):
    """The caller sees the order but the step belongs to the other party."""

    default_code = "order_wrong_party"


class InvalidOrderLine(Invalid):
    default_code = "order_line_invalid"
