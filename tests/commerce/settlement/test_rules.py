"""Settlement rules without I/O: payment terms read into a schedule, due dates, overdue."""

import datetime as dt
from decimal import Decimal

import pytest

from commerce.settlement.rules import (
    Installment,
    Milestone,
    due_date,
    installment_due,
    is_overdue,
    net_days,
    payment_schedule,
)

D = Decimal


@pytest.mark.parametrize(("terms", "schedule"), [
    ("NET30", [(Milestone.INVOICE, D(100))]),
    ("30% prepayment, 60% on shipment, net 30", [(Milestone.CONFIRMATION, D(30)), (Milestone.SHIPMENT, D(60)),
                                                 (Milestone.INVOICE, D(10))]),
    ("预付30%，收货后70%", [(Milestone.CONFIRMATION, D(30)), (Milestone.RECEIPT, D(70))]),
    ("80% advance, 50% on receipt", [(Milestone.INVOICE, D(100))]),
    ("", [(Milestone.INVOICE, D(100))]),
])
def test_terms_read_into_a_schedule(terms: str, schedule: list[tuple[Milestone, Decimal]]) -> None:
    assert [(i.milestone, i.percent) for i in payment_schedule(terms)] == schedule


@pytest.mark.parametrize(("terms", "days"), [("NET45", 45), ("net 60 days", 60), ("月结 30 天", 30), ("cash", 30)])
def test_net_days(terms: str, days: int) -> None:
    assert net_days(terms) == days


def test_due_dates_follow_milestones_and_the_invoice() -> None:
    shipped = dt.date(2026, 11, 10)
    reached = {Milestone.SHIPMENT: shipped}
    assert installment_due(Installment(Milestone.SHIPMENT, D(60)), reached=reached, payment_terms="",
                           invoice_date=None) == shipped
    assert installment_due(Installment(Milestone.RECEIPT, D(40)), reached=reached, payment_terms="",
                           invoice_date=None) is None
    assert installment_due(Installment(Milestone.INVOICE, D(40)), reached=reached, payment_terms="NET15",
                           invoice_date=dt.date(2026, 11, 20)) == dt.date(2026, 12, 5)
    assert due_date(dt.date(2026, 11, 20), "") == dt.date(2026, 12, 20)
    assert is_overdue(dt.date(2026, 11, 1), D("0.01"), dt.date(2026, 11, 2))
    assert not is_overdue(dt.date(2026, 11, 1), D(0), dt.date(2026, 11, 2))
