"""Supply-chain finance postings balance whatever happens: random sequences of invoices, assignments,
settlements, early payments and card payments, posted to the real journal (PostgreSQL checks each entry too)."""

import uuid
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement.finance import postings
from commerce.settlement.journal import AccountKind as A
from commerce.settlement.journal import Line
from commerce.settlement.models import JournalPosting

D = Decimal
AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("999999.99"), places=2)
RATES = st.decimals(min_value=D("0.01"), max_value=D("36"), places=2)
DAYS = st.integers(min_value=0, max_value=365)
# What happens to each invoice: paid by the buyer, financed then settled, financed and left open, paid early.
FATES = st.sampled_from(["paid", "financed_settled", "financed_open", "paid_early"])


def invoice_lines(supplier: uuid.UUID, buyer: uuid.UUID, amount: Decimal) -> list[Line]:
    return [Line.dr(supplier, A.RECEIVABLE, amount), Line.cr(supplier, A.REVENUE, amount),
            Line.dr(buyer, A.PURCHASES, amount), Line.cr(buyer, A.PAYABLE, amount)]


def paid_lines(supplier: uuid.UUID, buyer: uuid.UUID, amount: Decimal) -> list[Line]:
    return [Line.dr(buyer, A.PAYABLE, amount), Line.cr(buyer, A.BANK, amount),
            Line.dr(supplier, A.BANK, amount), Line.cr(supplier, A.RECEIVABLE, amount)]


def entries_for(fate: str, amount: Decimal, rate: Decimal, days: int,
                supplier: uuid.UUID, buyer: uuid.UUID, financier: uuid.UUID) -> list[list[Line]]:
    discount = postings.discount_for(amount, rate, days)
    financed = postings.assignment_lines(supplier=supplier, financier=financier, amount=amount, discount=discount)
    return [invoice_lines(supplier, buyer, amount)] + {
        "paid": [paid_lines(supplier, buyer, amount)],
        "financed_settled": [financed, postings.settlement_lines(buyer=buyer, financier=financier, amount=amount)],
        "financed_open": [financed],
        "paid_early": [postings.early_payment_lines(buyer=buyer, supplier=supplier, amount=amount,
                                                    discount=discount)],
    }[fate]


def test_the_discount_is_actual_360_rounded_half_up_and_never_exceeds_the_amount() -> None:
    assert postings.discount_for(D("1130.00"), D("12"), 90) == D("33.90")
    assert postings.discount_for(D("100.00"), D("36"), 365) == D("36.50")
    assert postings.discount_for(D("0.01"), D("1"), 1) == D("0.00")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deals=st.lists(st.tuples(FATES, AMOUNTS, RATES, DAYS), min_size=1, max_size=5))
async def test_random_finance_sequences_keep_every_book_balanced(
    session: AsyncSession, deals: list[tuple[str, Decimal, Decimal, int]],
) -> None:
    # given three fresh organizations
    supplier, buyer, financier = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    # when every deal's entries are posted
    for fate, amount, rate, days in deals:
        for lines in entries_for(fate, amount, rate, days, supplier, buyer, financier):
            await journal.post_entry(session, currency="CNY", lines=lines, reference=str(uuid.uuid4()),
                                     kind="property")
    # then each organization's books balance, and what is still owed is exactly the open financed invoices
    net = func.sum(JournalPosting.debit - JournalPosting.credit)
    totals = dict((await session.execute(
        select(JournalPosting.org_id, net).where(JournalPosting.org_id.in_([supplier, buyer, financier]))
        .group_by(JournalPosting.org_id))).all())
    assert all(total == 0 for total in totals.values())
    still_owed = sum((amount for fate, amount, _, _ in deals if fate == "financed_open"), D(0))

    async def balance(org: uuid.UUID, account: A) -> Decimal:
        return await journal.balance(session, org_id=org, account=account, currency="CNY")

    assert await balance(supplier, A.RECEIVABLE) == 0
    assert await balance(financier, A.RECEIVABLE) == still_owed
    assert await balance(buyer, A.PAYABLE) == -still_owed
    assert await balance(supplier, A.FINANCING) == -await balance(financier, A.FINANCING) - await balance(
        buyer, A.FINANCING)
