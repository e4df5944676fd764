"""The order page lists each party's own evidence entries for the order (the other party's stay hidden)."""

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.commerce.orders.test_change_pages import as_member, confirmed_order
from tests.orders_factories import OrderWorld


async def test_each_party_sees_its_own_sealed_steps(client: AsyncClient, session: AsyncSession,
                                                    world: OrderWorld) -> None:
    # given an order the buyer submitted and the supplier confirmed (both steps are evidence)
    order, _ = await confirmed_order(session, world)
    # when each party opens the order
    await as_member(client, world.buyer)
    buyer_page = (await client.get(f"/orders/{order.id}")).text
    await as_member(client, world.supplier)
    supplier_page = (await client.get(f"/orders/{order.id}")).text
    # then each sees its own step in the evidence section, waiting to be sealed by the log
    buyer_evidence = buyer_page.split('id="evidence"')[1].split("</section>")[0]
    supplier_evidence = supplier_page.split('id="evidence"')[1].split("</section>")[0]
    assert "not yet sealed" in buyer_evidence and "not yet sealed" in supplier_evidence
    assert buyer_evidence.count("<li>") == supplier_evidence.count("<li>") == 1
    assert buyer_evidence != supplier_evidence
