"""Change request pages over HTTP: one party proposes on the order page, the other finds it under
/orders/changes and accepts or declines it; the proposer may withdraw it; wrong parties and forms without a CSRF
token are refused, bad input re-renders the page with the reason."""

import re
import uuid

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import ChangeOrder, OrderLine, PurchaseOrder
from commerce.orders.service import transitions
from tests.factories import Member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, place_order
from tests.tradeloom.test_pages import sign_in


async def confirmed_order(session: AsyncSession, world: OrderWorld) -> tuple[PurchaseOrder, OrderLine]:
    """3 BX at 12.345 (41.86 gross), sent and confirmed as ordered; the session is left as the owner."""
    order = await place_order(session, world)
    order = await transitions.submit_order(session, actor=owner_actor(world.buyer), order_id=order.id,
                                           expected_version=order.version)
    await act_as(session, world.supplier)
    order = await transitions.confirm_order(session, actor=owner_actor(world.supplier), order_id=order.id,
                                            expected_version=order.version)
    await as_owner(session)
    line = await session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    assert line is not None
    return order, line


async def as_member(client: AsyncClient, member: Member) -> str:
    """Sign in (out of whoever was signed in) through the form, pages in English; returns the CSRF token."""
    client.cookies.clear()
    csrf = await sign_in(client, member.user.email)
    await client.get("/lang/en?next=/")
    return csrf


def page_version(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version on the page"
    return match.group(1)


async def propose(client: AsyncClient, csrf: str, order: PurchaseOrder, line: OrderLine, quantity: str,
                  reason: str = "short of stock") -> Response:
    page = await client.get(f"/orders/{order.id}")
    return await client.post(f"/orders/{order.id}/changes", data={
        "csrf_token": csrf, "version": page_version(page.text), "reason": reason,
        f"change_qty_{line.id}": quantity, f"change_date_{line.id}": "2026-12-10",
    })


async def answer(client: AsyncClient, csrf: str, order: PurchaseOrder, change_id: uuid.UUID, what: str) -> Response:
    page = await client.get(f"/orders/{order.id}")
    return await client.post(f"/orders/{order.id}/changes/{change_id}/{what}",
                             data={"csrf_token": csrf, "version": page_version(page.text)})


async def open_change_id(session: AsyncSession, order: PurchaseOrder) -> uuid.UUID:
    await as_owner(session)
    change_id = await session.scalar(select(ChangeOrder.id).where(ChangeOrder.order_id == order.id,
                                                                  ChangeOrder.status == "proposed"))
    assert change_id is not None
    return change_id


async def test_supplier_proposes_buyer_finds_and_accepts(client: AsyncClient, session: AsyncSession,
                                                         world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    # given the supplier proposes 2 instead of 3 boxes on the order page
    csrf = await as_member(client, world.supplier)
    assert 'id="propose-change"' in (await client.get(f"/orders/{order.id}")).text
    proposed = await propose(client, csrf, order, line, "2")
    assert (proposed.status_code, proposed.headers["location"]) == (303, f"/orders/{order.id}")
    supplier_page = await client.get(f"/orders/{order.id}")
    assert "Withdraw change" in supplier_page.text and "Accept change" not in supplier_page.text
    # when the buyer opens the change requests waiting for its answer (from the navigation)
    csrf = await as_member(client, world.buyer)
    assert '<a href="/orders/changes"' in (await client.get("/")).text
    inbox = await client.get("/orders/changes")
    # then the order is listed there, with the reason
    assert inbox.status_code == 200
    assert f'<a href="/orders/{order.id}#changes">{order.number}</a>' in inbox.text and "short of stock" in inbox.text
    # when the buyer accepts it
    version_before = int(page_version((await client.get(f"/orders/{order.id}")).text))
    accepted = await answer(client, csrf, order, await open_change_id(session, order), "accept")
    assert accepted.status_code == 303
    # then the order has 2 boxes, the new totals and a new version; nothing waits any more
    page = (await client.get(f"/orders/{order.id}")).text
    assert "<td>2 BX</td>" in page and '<dd class="gross">27.90 CNY</dd>' in page
    assert int(page_version(page)) == version_before + 1
    assert '<span class="change-status">Accepted</span>' in page
    assert "No change requests wait for your answer." in (await client.get("/orders/changes")).text


async def test_buyer_proposes_supplier_declines(client: AsyncClient, session: AsyncSession, world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    csrf = await as_member(client, world.buyer)
    assert (await propose(client, csrf, order, line, "5", reason="more needed")).status_code == 303
    csrf = await as_member(client, world.supplier)
    assert "more needed" in (await client.get("/orders/changes")).text
    declined = await answer(client, csrf, order, await open_change_id(session, order), "decline")
    assert declined.status_code == 303
    page = (await client.get(f"/orders/{order.id}")).text
    assert "<td>3 BX</td>" in page and '<span class="change-status">Declined</span>' in page
    assert "Change declined" in page  # the timeline


async def test_buyer_withdraws_own_change(client: AsyncClient, session: AsyncSession, world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    csrf = await as_member(client, world.buyer)
    await propose(client, csrf, order, line, "1")
    withdrawn = await answer(client, csrf, order, await open_change_id(session, order), "withdraw")
    assert withdrawn.status_code == 303
    page = (await client.get(f"/orders/{order.id}")).text
    assert '<span class="change-status">Withdrawn</span>' in page and 'id="propose-change"' in page


async def test_wrong_parties_are_refused(client: AsyncClient, session: AsyncSession, world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    csrf = await as_member(client, world.supplier)
    await propose(client, csrf, order, line, "2")
    change_id = await open_change_id(session, order)
    # the proposer cannot accept its own change: 403, the page shows why
    refused = await client.post(f"/orders/{order.id}/changes/{change_id}/accept",
                                data={"csrf_token": csrf, "version": str(order.version)})
    assert refused.status_code == 403
    assert "The other party answers a change order, not the one who proposed it." in refused.text
    # the buyer cannot withdraw the supplier's change
    csrf = await as_member(client, world.buyer)
    refused = await client.post(f"/orders/{order.id}/changes/{change_id}/withdraw",
                                data={"csrf_token": csrf, "version": str(order.version)})
    assert refused.status_code == 403
    # another supplier does not see the order at all, nor the change request
    csrf = await as_member(client, world.other_supplier)
    refused = await client.post(f"/orders/{order.id}/changes/{change_id}/accept",
                                data={"csrf_token": csrf, "version": str(order.version)})
    assert refused.status_code == 404
    assert order.number not in (await client.get("/orders/changes")).text
    # an approver neither orders nor confirms: no change requests page
    await as_member(client, world.approver)
    assert (await client.get("/orders/changes")).status_code == 403
    # and the change still waits
    assert await open_change_id(session, order) == change_id


async def test_form_without_csrf_token_is_403_and_stores_nothing(client: AsyncClient, session: AsyncSession,
                                                                 world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    await as_member(client, world.supplier)
    response = await client.post(f"/orders/{order.id}/changes", data={
        "version": str(order.version), "reason": "x", f"change_qty_{line.id}": "2"})
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    await as_owner(session)
    assert await session.scalar(select(func.count()).select_from(ChangeOrder)) == 0


async def test_bad_proposals_rerender_the_page_with_the_reason(client: AsyncClient, session: AsyncSession,
                                                               world: OrderWorld) -> None:
    order, line = await confirmed_order(session, world)
    csrf = await as_member(client, world.supplier)
    # a quantity that is no number, or no change at all: 422 with the order page
    for quantity in ("two", "3"):
        refused = await propose(client, csrf, order, line, quantity)
        assert refused.status_code == 422
        assert f"{order.number}</h1>" in refused.text and 'role="alert"' in refused.text
    # a fraction of a box: the service's reason
    refused = await propose(client, csrf, order, line, "1.5")
    assert (refused.status_code, "BX is counted in whole units" in refused.text) == (422, True)
    # a second proposal while one is open: 409
    assert (await propose(client, csrf, order, line, "2")).status_code == 303
    refused = await propose(client, csrf, order, line, "1")
    assert refused.status_code == 409
    assert "A change order is already waiting for an answer." in refused.text
