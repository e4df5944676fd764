"""Bank statements (CSV, camt.053) reconciled to invoices; escrow held, released on receipt, refunded."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal, payments, postings, statements
from commerce.settlement.account_statements import service as account_statements
from commerce.settlement.journal import AccountKind
from tests.commerce.settlement.conftest import Deal
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.settlement_factories import invoice, receive
from tradeloom.errors import Forbidden, Invalid

D = Decimal
CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt><Id>S-1</Id>
<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-24</Dt></BookgDt>
<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Pty><Nm>苏州买方</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="CNY">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>2026-11-24</Dt></BookgDt>
<AcctSvcrRef>FEE-1</AcctSvcrRef></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


def _csv(*rows: tuple[str, str, str]) -> bytes:
    lines = ["bank_ref,booking_date,amount,currency,remittance,payer_name"]
    lines += [f"{ref},2026-11-24,{amount},CNY,{remittance},Buyer Co" for ref, amount, remittance in rows]
    return "\n".join(lines).encode()


async def _import(session: AsyncSession, deal: Deal, filename: str, content: bytes) -> payments.ImportResult:
    await act_as(session, deal.world.orders.supplier)
    return await payments.import_statement(session, actor=owner_actor(deal.world.orders.supplier),
                                           filename=filename, content=content)


async def _outstanding(session: AsyncSession, issued: payments.Invoice) -> Decimal:
    return await postings.outstanding(session, issued, viewer_org_id=issued.supplier_org_id)


class TestStatements:
    def test_camt053_credits_are_read_and_debits_skipped(self) -> None:
        credits = statements.parse_camt053(CAMT.format(amount="1130.00", ref="B-1", remittance="TLABCDEFGHJK").encode())
        assert [(c.bank_ref, c.amount, c.currency, c.remittance, c.payer_name, str(c.booking_date)) for c in credits] \
            == [("B-1", D("1130.00"), "CNY", "TLABCDEFGHJK", "苏州买方", "2026-11-24")]

    @pytest.mark.parametrize("content", [
        b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><Document>&a;</Document>",
        b"<Document><BkToCstmrStmt><Ntry>",
        b"<Document/>",
        b"bank_ref,amount\nB-1,10",
        b"bank_ref,booking_date,amount,currency,remittance\nB-1,2026-11-24,-5,CNY,x",
        b"bank_ref,booking_date,amount,currency,remittance\nB-1,yesterday,5,CNY,x",
        b"x" * (statements.MAX_BYTES + 1),
    ], ids=["entity", "truncated", "not-camt", "csv-header", "negative", "bad-date", "huge"])
    def test_hostile_or_malformed_files_are_a_clear_422(self, content: bytes) -> None:
        with pytest.raises(Invalid) as refused:
            payments.parse_statement("upload.xml" if content.startswith(b"<") else "upload.csv", content)
        assert refused.value.code == "statement_invalid"


class TestReconciliation:
    async def test_reference_matches_pay_partially_then_over_and_reimport_is_harmless(
            self, session: AsyncSession, deal: Deal) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="10")
        ref = issued.payment_reference
        # partial payment quoting the reference
        result = await _import(session, deal, "s.csv", _csv(("B-1", "1000.00", f"PO payment {ref.lower()}")))
        assert (result.matched, result.unmatched, result.duplicates) == (1, 0, 0)
        assert await _outstanding(session, issued) == D("130.00")
        # the same file again, and an overpayment by camt.053
        assert (await _import(session, deal, "s.csv", _csv(("B-1", "1000.00", ref)))).duplicates == 1
        await _import(session, deal, "s.xml", CAMT.format(amount="150.00", ref="B-2", remittance=ref).encode())
        assert await _outstanding(session, issued) == D("-20.00")
        # the buyer's books say the same
        await act_as(session, deal.world.orders.buyer)
        assert await postings.outstanding(session, issued, viewer_org_id=issued.buyer_org_id) == D("-20.00")

    async def test_a_line_without_reference_matches_by_a_unique_amount_else_waits_in_the_queue(
            self, session: AsyncSession, deal: Deal) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="2")
        result = await _import(session, deal, "s.csv", _csv(("B-1", "226.00", "goods"), ("B-2", "99.00", "??")))
        assert (result.matched, result.unmatched) == (1, 1)
        assert await _outstanding(session, issued) == D(0)
        queue = await payments.unmatched_lines(session)
        assert [line.bank_ref for line in queue] == ["B-2"]
        # when matched by hand
        other = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
        await payments.match_line(session, actor=owner_actor(deal.world.orders.supplier), line_id=queue[0].id,
                                  invoice_id=other.id)
        assert await _outstanding(session, other) == D("14.00")
        assert await payments.unmatched_lines(session) == []

    async def test_a_line_quoting_a_foreign_reference_is_left_unmatched(self, session: AsyncSession,
                                                                      deal: Deal) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
        other = deal.world.orders.other_supplier
        await act_as(session, other)
        result = await payments.import_statement(session, actor=owner_actor(other), filename="s.csv",
                                                 content=_csv(("B-9", "113.00", issued.payment_reference)))
        assert (result.matched, result.unmatched) == (0, 1)
        await act_as(session, deal.world.orders.supplier)
        assert await _outstanding(session, issued) == D("113.00")


class TestEscrow:
    async def test_held_released_as_goods_are_received_and_the_rest_refunded_on_cancellation(
            self, session: AsyncSession, deal: Deal) -> None:
        buyer = owner_actor(deal.world.orders.buyer)
        await act_as(session, deal.world.orders.buyer)
        await payments.deposit_escrow(session, actor=buyer, order_id=deal.order.id, amount=D("1130.00"))
        assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=buyer.org_id,
                                          currency="CNY") == D("1130.00")
        # partial receipt: 4 of 10 boxes; nothing is released before they are invoiced
        await receive(session, deal.world, deal.order, deal.line, "4")
        await act_as(session, deal.world.orders.buyer)
        assert await payments.release_escrow(session, actor=buyer, order_id=deal.order.id) == []
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
        await act_as(session, deal.world.orders.buyer)
        released = await payments.release_escrow(session, actor=buyer, order_id=deal.order.id)
        assert [(p.amount, p.invoice_id) for p in released] == [(D("452.00"), issued.id)]
        assert await payments.release_escrow(session, actor=buyer, order_id=deal.order.id) == []
        assert await postings.outstanding(session, issued, viewer_org_id=buyer.org_id) == D(0)
        # cancelled: the rest goes back
        await as_owner(session)
        await session.execute(text("UPDATE purchase_orders SET status = 'cancelled' WHERE id = :id"),
                              {"id": deal.order.id})
        session.expunge_all()
        await act_as(session, deal.world.orders.buyer)
        refunded = await payments.refund_escrow(session, actor=buyer, order_id=deal.order.id)
        assert refunded is not None and refunded.amount == D("678.00")
        assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=buyer.org_id,
                                          currency="CNY") == D(0)
        await act_as(session, deal.world.orders.supplier)
        assert await journal.balance(session, org_id=deal.order.supplier_org_id, account=AccountKind.BANK,
                                     currency="CNY") == D("452.00")

    async def test_a_release_pays_the_orders_invoices_oldest_first_and_shows_on_the_statement(
            self, session: AsyncSession, deal: Deal) -> None:
        # given all 10 boxes received, invoiced on two fapiao, and the order's gross total in escrow
        await receive(session, deal.world, deal.order, deal.line, "10")
        older = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
        newer = await invoice(session, deal.world, deal.order, deal.line, quantity="6")
        buyer = owner_actor(deal.world.orders.buyer)
        await act_as(session, deal.world.orders.buyer)
        await payments.deposit_escrow(session, actor=buyer, order_id=deal.order.id, amount=D("1130.00"))
        # when escrow is released
        released = await payments.release_escrow(session, actor=buyer, order_id=deal.order.id)
        # then it paid the older invoice first, then the newer, and nothing is outstanding or held
        assert [(p.invoice_id, p.amount) for p in released] == [(older.id, D("452.00")), (newer.id, D("678.00"))]
        for issued in (older, newer):
            assert await postings.outstanding(session, issued, viewer_org_id=buyer.org_id) == D(0)
        assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=buyer.org_id,
                                          currency="CNY") == D(0)
        # and the supplier's reconciliation statement lists the releases as payments, closing at zero
        supplier = owner_actor(deal.world.orders.supplier)
        await act_as(session, deal.world.orders.supplier)
        today = dt.date.today()
        shown = await account_statements.statement(session, supplier, account_statements.key_for(
            supplier, counterparty_org_id=buyer.org_id, side="supplier", currency="CNY",
            period_start=today - dt.timedelta(days=1), period_end=today + dt.timedelta(days=1)))
        assert [line.category for line in shown.lines].count("payment") == 2
        assert shown.closing_balance == D(0)

    async def test_only_the_buyer_deposits_and_never_more_than_the_order(self, session: AsyncSession,
                                                                         deal: Deal) -> None:
        await act_as(session, deal.world.orders.buyer)
        with pytest.raises(Invalid):
            await payments.deposit_escrow(session, actor=owner_actor(deal.world.orders.buyer),
                                          order_id=deal.order.id, amount=D("1130.01"))
        await act_as(session, deal.world.orders.supplier)
        with pytest.raises(Forbidden):
            await payments.deposit_escrow(session, actor=owner_actor(deal.world.orders.supplier),
                                          order_id=deal.order.id, amount=D("1"))
