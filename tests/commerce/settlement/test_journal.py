"""The journal: balanced entries only (checked in Python and by PostgreSQL), append-only, tenant-scoped reads."""

import uuid
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement.journal import AccountKind, Line
from commerce.settlement.models import JournalEntry, JournalPosting
from tests.factories import make_org
from tradeloom.db import apply_tenant
from tradeloom.errors import Conflict, Invalid

D = Decimal
CHECK_NOW = text("SET CONSTRAINTS journal_entry_balanced, journal_posting_balanced IMMEDIATE")


async def _two_orgs(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    return (await make_org(session)).id, (await make_org(session)).id


def _payment(buyer: uuid.UUID, supplier: uuid.UUID, amount: Decimal) -> list[Line]:
    return [Line.dr(buyer, AccountKind.PAYABLE, amount), Line.cr(buyer, AccountKind.BANK, amount),
            Line.dr(supplier, AccountKind.BANK, amount), Line.cr(supplier, AccountKind.RECEIVABLE, amount)]


class TestPostEntry:
    async def test_balanced_entry_is_posted_and_balances_are_sums_of_postings(self, session: AsyncSession) -> None:
        # given
        buyer, supplier = await _two_orgs(session)
        await apply_tenant(session, org_id=buyer)
        # when
        await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D("113.00")),
                                 reference="pay:1", kind="payment")
        await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D("7.50")),
                                 reference="pay:2", kind="payment")
        # then
        assert await journal.balance(session, org_id=buyer, account=AccountKind.BANK, currency="CNY") == D("-120.50")
        assert await journal.balance(session, org_id=buyer, account=AccountKind.PAYABLE, currency="CNY",
                                     reference_prefix="pay:2") == D("7.50")
        postings = await journal.postings_for(session, org_id=buyer, account=AccountKind.PAYABLE)
        assert [(p.reference, p.debit, p.credit) for p in postings] == [
            ("pay:1", D("113.00"), D(0)), ("pay:2", D("7.50"), D(0))]
        assert await journal.find_entry(session, kind="payment", reference="pay:1") is not None

    @pytest.mark.parametrize("lines", [
        [Line.dr(uuid.UUID(int=1), AccountKind.BANK, D(5))],
        [Line.dr(uuid.UUID(int=1), AccountKind.BANK, D(5)), Line.cr(uuid.UUID(int=1), AccountKind.PAYABLE, D(4))],
        [Line.dr(uuid.UUID(int=1), AccountKind.BANK, D(5)), Line.cr(uuid.UUID(int=2), AccountKind.PAYABLE, D(5))],
        [Line.dr(uuid.UUID(int=1), AccountKind.BANK, D("0.00001")),
         Line.cr(uuid.UUID(int=1), AccountKind.PAYABLE, D("0.00001"))],
        [Line(uuid.UUID(int=1), AccountKind.BANK, D(5), D(5)), Line.cr(uuid.UUID(int=1), AccountKind.PAYABLE, D(0))],
    ], ids=["one-line", "unbalanced", "unbalanced-per-org", "too-precise", "two-sided"])
    async def test_invalid_entries_are_refused_before_the_database(self, session: AsyncSession,
                                                                   lines: list[Line]) -> None:
        with pytest.raises(Invalid):
            await journal.post_entry(session, currency="CNY", lines=lines, reference="x", kind="test")
        assert await session.scalar(select(func.count()).select_from(JournalEntry)) == 0

    async def test_the_same_event_cannot_be_posted_twice(self, session: AsyncSession) -> None:
        buyer, supplier = await _two_orgs(session)
        await apply_tenant(session, org_id=buyer)
        await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(1)),
                                 reference="pay:9", kind="payment")
        with pytest.raises(Conflict) as refused:
            await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(1)),
                                     reference="pay:9", kind="payment")
        assert refused.value.code == "journal_entry_duplicate"
        assert await journal.balance(session, org_id=buyer, account=AccountKind.BANK, currency="CNY") == D(-1)


class TestDatabaseEnforcement:
    async def _raw_entry(self, session: AsyncSession, postings: list[tuple[uuid.UUID, AccountKind, str, str]]) -> None:
        entry_id = uuid.uuid4()
        await journal._open_accounts(session, "CNY", [Line.dr(org, kind, D(1)) for org, kind, _, _ in postings])
        await session.execute(insert(JournalEntry).values(id=entry_id, kind="raw", reference=str(entry_id),
                                                          currency="CNY"))
        await session.execute(insert(JournalPosting), [
            {"entry_id": entry_id, "line_no": no, "account_id": journal.account_id(org, kind, "CNY"), "org_id": org,
             "currency": "CNY", "debit": D(debit), "credit": D(credit)}
            for no, (org, kind, debit, credit) in enumerate(postings, start=1)])

    @pytest.mark.parametrize("shape", ["unbalanced", "unbalanced-per-org", "single-posting"])
    async def test_an_unbalanced_entry_written_around_the_service_fails_its_commit_check(
            self, session: AsyncSession, shape: str) -> None:
        buyer, supplier = await _two_orgs(session)
        postings = {
            "unbalanced": [(buyer, AccountKind.BANK, "10", "0"), (buyer, AccountKind.PAYABLE, "0", "9.99")],
            "unbalanced-per-org": [(buyer, AccountKind.BANK, "10", "0"), (supplier, AccountKind.BANK, "0", "10")],
            "single-posting": [(buyer, AccountKind.BANK, "10", "0")],
        }[shape]
        with pytest.raises(IntegrityError, match="journal entry"):
            async with session.begin_nested():
                await self._raw_entry(session, postings)
                await session.execute(CHECK_NOW)

    async def test_the_app_role_can_neither_update_nor_delete_postings(self, session: AsyncSession) -> None:
        buyer, supplier = await _two_orgs(session)
        await apply_tenant(session, org_id=buyer)
        await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(3)),
                                 reference="pay:3", kind="payment")
        for statement in ("UPDATE journal_postings SET debit = debit + 1", "DELETE FROM journal_entries"):
            with pytest.raises(DBAPIError, match="permission denied"):
                async with session.begin_nested():
                    await session.execute(text(statement))

    async def test_not_even_the_owner_can_rewrite_history(self, session: AsyncSession) -> None:
        buyer, supplier = await _two_orgs(session)
        await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(3)),
                                 reference="pay:4", kind="payment")
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin_nested():
                await session.execute(text("UPDATE journal_postings SET debit = debit + 1"))


class TestTenancy:
    async def test_each_party_reads_only_its_own_postings(self, session: AsyncSession) -> None:
        # given a payment posted by the buyer, touching the supplier's books
        buyer, supplier = await _two_orgs(session)
        outsider = (await make_org(session)).id
        await apply_tenant(session, org_id=buyer)
        entry = await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(50)),
                                         reference="pay:5", kind="payment")
        # then
        assert {p.account for p in await journal.postings_for(session, org_id=supplier)} == set()
        await apply_tenant(session, org_id=supplier)
        assert await journal.balance(session, org_id=supplier, account=AccountKind.RECEIVABLE,
                                     currency="CNY") == D(-50)
        assert await journal.balance(session, org_id=buyer, account=AccountKind.BANK, currency="CNY") == D(0)
        assert await journal.find_entry(session, kind="payment", reference="pay:5") == entry
        await apply_tenant(session, org_id=outsider)
        assert await journal.find_entry(session, kind="payment", reference="pay:5") is None
        assert await journal.postings_for(session, org_id=supplier) == []

    async def test_a_tenant_cannot_add_postings_to_an_entry_it_did_not_post(self, session: AsyncSession) -> None:
        buyer, supplier = await _two_orgs(session)
        await apply_tenant(session, org_id=buyer)
        entry = await journal.post_entry(session, currency="CNY", lines=_payment(buyer, supplier, D(50)),
                                         reference="pay:6", kind="payment")
        await apply_tenant(session, org_id=supplier)
        with pytest.raises(DBAPIError, match="row-level security"):
            async with session.begin_nested():
                await session.execute(insert(JournalPosting).values(
                    entry_id=entry, line_no=9, account_id=journal.account_id(supplier, AccountKind.BANK, "CNY"),
                    org_id=supplier, currency="CNY", debit=D(1), credit=D(0)))


AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2)
ACCOUNTS = st.sampled_from(list(AccountKind))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.tuples(st.integers(0, 2), ACCOUNTS, ACCOUNTS, AMOUNTS), min_size=1, max_size=6),
       skew=st.sampled_from([D(0), D(0), D("0.01")]))
async def test_whatever_is_posted_every_organization_stays_balanced(
        session: AsyncSession, moves: list[tuple[int, AccountKind, AccountKind, Decimal]], skew: Decimal) -> None:
    """Random transfers between accounts of three orgs, sometimes skewed by a cent: skewed ones are refused,
    the rest are posted, and each org's postings still sum to zero."""
    orgs = [uuid.UUID(int=n + 1) for n in range(3)]
    lines = [line for org, debit, credit, amount in moves
             for line in (Line.dr(orgs[org], debit, amount), Line.cr(orgs[org], credit, amount))]
    if skew:
        lines[0] = Line.dr(lines[0].org_id, lines[0].account, lines[0].debit + skew)
    try:
        await journal.post_entry(session, currency="CNY", lines=lines, reference=str(uuid.uuid4()), kind="random")
    except Invalid:
        assert skew
    else:
        assert not skew
    net = func.sum(JournalPosting.debit - JournalPosting.credit)
    totals = (await session.execute(select(JournalPosting.org_id, net).group_by(JournalPosting.org_id))).all()
    assert all(total == 0 for _, total in totals)
