"""Fapiao files (SHA-256, evidence), the tax-system adapter's refusal, and the escrow jobs on logistics and
order events."""

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from commerce.settlement import invoices, jobs, payments, postings, tax_issuer
from tests.commerce.settlement.conftest import Deal
from tests.materials_factories import act_as, owner_actor
from tests.settlement_factories import invoice, receive
from tradeloom.errors import Forbidden, Invalid, Unavailable

PDF = b"%PDF-1.7\n% fapiao 44031001\n"


class TestFapiaoFile:
    async def test_the_seller_attaches_a_pdf_kept_by_its_digest(self, session: AsyncSession, deal: Deal,
                                                                  tmp_path: Path) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
        attached = await invoices.attach_fapiao_file(
            session, actor=owner_actor(deal.world.orders.supplier), invoice_id=issued.id, filename="44031001.pdf",
            content=PDF, store_in=tmp_path)
        digest = hashlib.sha256(PDF).hexdigest()
        assert attached.fapiao_file == {"filename": "44031001.pdf", "media_type": "application/pdf",
                                        "size": len(PDF), "sha256": digest}
        assert (tmp_path / digest).read_bytes() == PDF

    async def test_other_files_are_refused(self, session: AsyncSession, deal: Deal, tmp_path: Path) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
        for filename, content in (("f.pdf", b"MZ\x90\x00"), ("f.exe", PDF), ("f.ofd", b"")):
            with pytest.raises(Invalid):
                await invoices.attach_fapiao_file(session, actor=owner_actor(deal.world.orders.supplier),
                                                  invoice_id=issued.id, filename=filename, content=content,
                                                  store_in=tmp_path)
        assert (await invoices.load_invoice(session, issued.id)).fapiao_file is None

    async def test_the_buyer_cannot_attach(self, session: AsyncSession, deal: Deal, tmp_path: Path) -> None:
        issued = await invoice(session, deal.world, deal.order, deal.line, quantity="1")
        await act_as(session, deal.world.orders.buyer)
        with pytest.raises(Forbidden):
            await invoices.attach_fapiao_file(session, actor=owner_actor(deal.world.orders.buyer),
                                              invoice_id=issued.id, filename="f.pdf", content=PDF, store_in=tmp_path)


async def test_no_tax_system_issuer_is_reachable() -> None:
    request = tax_issuer.FapiaoRequest("special", "卖方", "91310000MA1FL0000X", "买方", "91310000MA1FL0001X", ())
    with pytest.raises(Unavailable):
        await tax_issuer.issuer().issue(request)


async def test_goods_received_and_then_invoiced_release_escrow_once(
        session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], deal: Deal) -> None:
    # given escrow paid and 5 of 10 boxes received, not yet invoiced
    buyer = owner_actor(deal.world.orders.buyer)
    await act_as(session, deal.world.orders.buyer)
    await payments.deposit_escrow(session, actor=buyer, order_id=deal.order.id, amount=Decimal("1130.00"))
    await receive(session, deal.world, deal.order, deal.line, "5")
    await session.commit()  # a savepoint of the test's transaction: the job's session sees it
    received = {"org_id": str(buyer.org_id), "topic": "goods.received", "payload": {"order_id": str(deal.order.id)}}
    # when the receipt event is delivered, nothing is released: escrow pays invoices
    await jobs.run_escrow_step(sessionmaker, received, payments.release_escrow)
    await act_as(session, deal.world.orders.buyer)
    assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=buyer.org_id,
                                      currency="CNY") == Decimal("1130.00")
    # when the 5 boxes are invoiced and the invoice event is delivered twice
    issued = await invoice(session, deal.world, deal.order, deal.line, quantity="5")
    await session.commit()
    event = {"org_id": str(issued.supplier_org_id), "topic": "invoice.issued",
             "payload": {"invoice_id": str(issued.id)}}
    await jobs.run_invoice_release(sessionmaker, event)
    await jobs.run_invoice_release(sessionmaker, event)
    # then half was released, once, paying the invoice
    await act_as(session, deal.world.orders.buyer)
    assert await postings.escrow_held(session, order_id=deal.order.id, buyer_org_id=buyer.org_id,
                                      currency="CNY") == Decimal("565.00")
    assert await postings.outstanding(session, issued, viewer_org_id=buyer.org_id) == Decimal(0)
