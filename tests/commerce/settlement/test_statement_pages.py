"""The bank-statement page over HTTP: upload a CSV (matched and queued lines), match a queued line by hand, and
a missing file shown again with the reason."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import postings
from tests.commerce.settlement.conftest import Deal
from tests.factories import make_member
from tests.materials_factories import act_as, as_owner
from tests.settlement_factories import invoice, receive
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.roles import Role

PAGE = "/settlement/bank-statements"


async def test_upload_then_match_the_queued_line_by_hand(client: AsyncClient, session: AsyncSession,
                                                         deal: Deal) -> None:
    # given two approved invoices and the supplier's treasurer signed in
    await receive(session, deal.world, deal.order, deal.line, "10")
    first = await invoice(session, deal.world, deal.order, deal.line, quantity="4")
    second = await invoice(session, deal.world, deal.order, deal.line, quantity="6")
    await as_owner(session)
    treasurer = await make_member(session, org=deal.world.orders.supplier.org, roles=(Role.FINANCE,))
    csrf = await sign_in(client, treasurer.user.email)
    statement = ("bank_ref,booking_date,amount,currency,remittance,payer_name\n"
                 f"P-1,2026-11-24,452.00,CNY,{first.payment_reference},Buyer\n"
                 "P-2,2026-11-24,100.00,CNY,goods,Buyer\n").encode()
    # when the statement is uploaded, and uploaded again without a file
    uploaded = await client.post(PAGE, data={"csrf_token": csrf}, files={"file": ("s.csv", statement, "text/csv")})
    missing = await client.post(PAGE, data={"csrf_token": csrf})
    page = await client.get(PAGE)
    # then the referenced line paid the first invoice, the other waits in the queue; no file is a 422 on the page
    assert uploaded.status_code == 303
    assert missing.status_code == 422 and 'role="alert"' in missing.text
    assert "P-2" in page.text and "P-1" not in page.text
    line_id = page.text.split(f'action="{PAGE}/')[1].split("/match")[0]
    # when the queued line is matched to the second invoice by hand
    matched = await client.post(f"{PAGE}/{line_id}/match", data={"csrf_token": csrf, "invoice_id": str(second.id)})
    bad = await client.post(f"{PAGE}/{line_id}/match", data={"csrf_token": csrf, "invoice_id": "nonsense"})
    # then the queue is empty and both invoices show the payments
    assert matched.status_code == 303 and bad.status_code == 422
    assert "P-2" not in (await client.get(PAGE)).text
    await act_as(session, deal.world.orders.supplier)
    assert await postings.outstanding(session, first, viewer_org_id=first.supplier_org_id) == Decimal(0)
    assert await postings.outstanding(session, second, viewer_org_id=second.supplier_org_id) == \
        second.gross_total - Decimal("100.00")
