"""Rules of qualification documents that need no database: types, states, and where a document stands."""

import datetime as dt
from enum import StrEnum

REMINDER_DAYS = (30, 7)  # supplier.qualification.expiring is sent once at each of these many days before


class DocType(StrEnum):
    ISO_9001 = "iso9001"
    ISO_14001 = "iso14001"
    IATF_16949 = "iatf16949"
    BUSINESS_LICENCE = "business_licence"
    PRODUCT_CERTIFICATE = "product_certificate"
    CCC = "ccc"  # China Compulsory Certificate
    OTHER = "other"


class QualificationStatus(StrEnum):
    PENDING = "pending"  # uploaded by the supplier, waiting for the buyer
    APPROVED = "approved"
    REJECTED = "rejected"


def standing(valid_until: dt.date, today: dt.date) -> str:
    """``expired`` after its last valid day, ``expiring`` within the first reminder window, else ``valid``."""
    if valid_until < today:
        return "expired"
    return "expiring" if (valid_until - today).days <= REMINDER_DAYS[0] else "valid"


def due_reminder(valid_until: dt.date, today: dt.date, sent: dict[int, bool]) -> int | None:
    """The reminder (days before) to send today, if any: the nearest threshold reached and not yet sent.

    A document first seen 5 days before it runs out gets the 7-day reminder only, not a late 30-day one.
    """
    days_left = (valid_until - today).days
    if days_left < 0:
        return None
    reached = [days for days in REMINDER_DAYS if days_left <= days]
    if not reached:
        return None
    nearest = min(reached)
    return None if sent[nearest] else nearest
