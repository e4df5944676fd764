"""Errors of the evidence log, with stable codes."""

from tradeloom.errors import TradeloomError


class OutsideTheLog(TradeloomError):
    """A leaf index or tree size the log has not published (RFC 9162 answers these with 400)."""

    status, default_code, title = 400, "outside_the_log", "Outside the log"
