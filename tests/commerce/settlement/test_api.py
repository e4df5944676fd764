"""The settlement API: issue and read invoices, replays, foreign invoices, statements, problem+json refusals."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.commerce.settlement.conftest import Deal
from tests.factories import make_member
from tests.materials_factories import as_owner
from tests.settlement_factories import receive
from tradeloom.identity.roles import Role

URL = "/api/v1/settlement"


def _body(deal: Deal, quantity: str = "10", number: str = "24400001", tax_rate: str = "13") -> dict[str, object]:
    return {"fapiao_type": "special", "fapiao_number": number, "issue_date": "2026-11-20", "lines": [
        {"order_id": str(deal.order.id), "order_line_id": str(deal.line.id), "quantity": quantity,
         "unit_price": "100.00", "tax_rate": tax_rate}]}


async def test_issue_replay_read_and_pay_by_bank_transfer(client: AsyncClient, session: AsyncSession,
                                                          deal: Deal) -> None:
    # given the goods were received
    await receive(session, deal.world, deal.order, deal.line, "10")
    supplier = deal.world.orders.supplier.headers | {"Idempotency-Key": "invoice-0001"}
    # when issued twice with the same key
    first = await client.post(f"{URL}/invoices", json=_body(deal), headers=supplier)
    replay = await client.post(f"{URL}/invoices", json=_body(deal), headers=supplier)
    # then
    assert first.status_code == 201, first.text
    assert replay.json() == first.json()
    invoice_id = first.json()["id"]
    listed = await client.get(f"{URL}/invoices", headers=deal.world.orders.buyer.headers)
    assert [row["id"] for row in listed.json()] == [invoice_id]
    detail = (await client.get(f"{URL}/invoices/{invoice_id}", headers=deal.world.orders.buyer.headers)).json()
    assert (detail["status"], detail["outstanding"], detail["lines"][0]["match_status"]) == (
        "approved", "1130.0000", "matched")
    pay = (await client.get(f"{URL}/invoices/{invoice_id}/payment-instructions",
                            headers=deal.world.orders.buyer.headers)).json()
    assert pay["instructions"]["reference"] == detail["payment_reference"]
    assert pay["instructions"]["amount"] == "1130.00"


async def test_refusals_are_problem_json_and_change_nothing(client: AsyncClient, session: AsyncSession,
                                                            deal: Deal) -> None:
    supplier = deal.world.orders.supplier.headers
    over = await client.post(f"{URL}/invoices", json=_body(deal, quantity="11"), headers=supplier)
    wrong_rate = await client.post(f"{URL}/invoices", json=_body(deal, tax_rate="6"), headers=supplier)
    bad_number = await client.post(f"{URL}/invoices", json=_body(deal, number="x"), headers=supplier)
    assert (over.status_code, over.json()["code"]) == (422, "invoice_lines_invalid")
    assert wrong_rate.json()["errors"][0]["detail"].startswith("tax rate 6 is not")
    assert bad_number.status_code == 422
    assert over.headers["content-type"].startswith("application/problem+json")
    first = await client.post(f"{URL}/invoices", json=_body(deal, quantity="1"), headers=supplier)
    duplicate = await client.post(f"{URL}/invoices", json=_body(deal, quantity="1"), headers=supplier)
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "fapiao_number_duplicate")
    # a foreign invoice does not exist for others
    await as_owner(session)
    outsider = await make_member(session, roles=(Role.FINANCE,))
    invoice_id = first.json()["id"]
    for path in (f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/payment-instructions"):
        assert (await client.get(f"{URL}{path}", headers=outsider.headers)).status_code == 404
    listed = await client.get(f"{URL}/invoices", headers=supplier)
    assert len(listed.json()) == 1


async def test_statement_upload_matches_and_queues(client: AsyncClient, session: AsyncSession, deal: Deal) -> None:
    await as_owner(session)
    treasurer = await make_member(session, org=deal.world.orders.supplier.org, roles=(Role.FINANCE,))
    created = await client.post(f"{URL}/invoices", json=_body(deal, quantity="1"), headers=treasurer.headers)
    reference = created.json()["payment_reference"]
    csv = (f"bank_ref,booking_date,amount,currency,remittance,payer_name\n"
           f"B-1,2026-11-24,113.00,CNY,{reference},Buyer\nB-2,2026-11-24,7.00,CNY,unknown,Someone\n")
    files = {"file": ("statement.csv", csv.encode(), "text/csv")}
    imported = await client.post(f"{URL}/bank-statements", files=files, headers=treasurer.headers)
    replayed = await client.post(f"{URL}/bank-statements", files=files, headers=treasurer.headers)
    assert imported.json() == {"matched": 1, "unmatched": 1, "duplicates": 0}
    assert replayed.json() == {"matched": 0, "unmatched": 0, "duplicates": 2}
    queue = (await client.get(f"{URL}/bank-statements/unmatched", headers=treasurer.headers)).json()
    assert [line["bank_ref"] for line in queue] == ["B-2"]
    entity = b"<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><d>&e;</d>"
    hostile = await client.post(f"{URL}/bank-statements", headers=treasurer.headers,
                                files={"file": ("s.xml", entity, "application/xml")})
    assert (hostile.status_code, hostile.json()["code"]) == (422, "statement_invalid")
    payments = (await client.get(f"{URL}/payments", headers=deal.world.orders.buyer.headers)).json()
    assert [(p["amount"], p["method"]) for p in payments] == [("113.0000", "bank_transfer")]
    balances = (await client.get(f"{URL}/balances", headers=treasurer.headers)).json()
    assert {row["account"]: row["balance"] for row in balances} == {
        "bank": "113.0000", "receivable": "0.0000", "revenue": "-100.0000", "vat_output": "-13.0000"}
