"""Display names of order states and timeline events (English sources, translated when rendered)."""

from tradeloom.web.labels import N_

STATUS_LABELS = {
    "draft": N_("Draft"), "submitted": N_("Awaiting approval"), "sent": N_("Sent to supplier"),
    "confirmed": N_("Confirmed"), "rejected": N_("Rejected by supplier"), "in_production": N_("In production"),
    "partially_shipped": N_("Partially shipped"), "shipped": N_("Shipped"), "received": N_("Received"),
    "closed": N_("Closed"), "cancelled": N_("Cancelled"),
}
EVENT_LABELS = {
    "order.created": N_("Order created"), "order.submitted": N_("Submitted for approval"),
    "order.approved": N_("Approved"), "order.approval_rejected": N_("Approval refused"),
    "order.sent": N_("Sent to supplier"), "order.confirmed": N_("Confirmed by supplier"),
    "order.rejected": N_("Rejected by supplier"), "order.in_production": N_("Production started"),
    "order.partially_shipped": N_("Partially shipped"), "order.shipped": N_("Shipped"),
    "order.received": N_("Goods received"), "order.closed": N_("Closed"), "order.cancelled": N_("Cancelled"),
    "order.change_proposed": N_("Change proposed"), "order.changed": N_("Change accepted"),
    "order.change_declined": N_("Change declined"), "order.change_withdrawn": N_("Change withdrawn"),
}
CHANGE_STATUS_LABELS = {
    "proposed": N_("Awaiting answer"), "accepted": N_("Accepted"), "declined": N_("Declined"),
    "withdrawn": N_("Withdrawn"),
}
ACTION_LABELS = {
    "submit": N_("Submit"), "approve": N_("Approve"), "reject-approval": N_("Refuse approval"),
    "confirm": N_("Confirm as ordered"), "reject": N_("Reject order"), "cancel": N_("Cancel order"),
    "start-production": N_("Start production"), "ship-partially": N_("Ship partially"), "ship": N_("Ship"),
    "receive": N_("Receive goods"), "close": N_("Close order"),
}
