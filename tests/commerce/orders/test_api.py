"""The orders API: problem+json for every refusal, ETags, Idempotency-Key replays, lists, and two approvers
racing for the same version."""

import asyncio
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from commerce.orders.models import OrderEvent, PurchaseOrder
from commerce.orders.service import transitions
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, add_rule, make_world, place_order
from tradeloom.db import make_sessionmaker


def order_body(world: OrderWorld, **line: Any) -> dict[str, Any]:
    return {
        "supplier_org_id": str(world.supplier.org.id), "delivery_site_id": str(world.site_id), "currency": "CNY",
        "source": "award", "reference": "AWD-7", "payment_terms": "30 days net",
        "lines": [{"material_id": str(world.bolt.id), "quantity": "3", "unit": "BX", "unit_price": "12.345",
                   "tax_rate": "13"} | line],
    }


def problem(response: Response) -> tuple[int, str, str]:
    return response.status_code, response.headers["content-type"], response.json()["code"]


async def _order_count(session: AsyncSession) -> int:
    await as_owner(session)
    return int(await session.scalar(select(func.count()).select_from(PurchaseOrder)) or 0)


async def sent_order(client: AsyncClient, world: OrderWorld) -> dict[str, Any]:
    """An order placed and submitted through the API (no approval rule: it is sent), with its ETag."""
    created = await client.post("/api/v1/orders", json=order_body(world), headers=world.buyer.headers)
    submitted = await client.post(f"/api/v1/orders/{created.json()['id']}/submit",
                                  headers=world.buyer.headers | {"If-Match": created.headers["etag"]})
    assert submitted.json()["status"] == "sent"
    return submitted.json() | {"etag": submitted.headers["etag"]}


class TestCreate:
    async def test_created_with_exact_decimal_strings(self, client: AsyncClient, world: OrderWorld) -> None:
        response = await client.post("/api/v1/orders", json=order_body(world), headers=world.buyer.headers)
        body = response.json()
        assert (response.status_code, response.headers["etag"]) == (201, '"1"')
        assert response.headers["location"] == f"/api/v1/orders/{body['id']}"
        assert (body["net_total"], body["tax_total"], body["gross_total"], body["status"]) == (
            "37.04", "4.82", "41.86", "draft")

    async def test_replayed_key_returns_the_first_order(self, client: AsyncClient, session: AsyncSession,
                                                        world: OrderWorld) -> None:
        headers = world.buyer.headers | {"Idempotency-Key": "po-create-0001"}
        first = await client.post("/api/v1/orders", json=order_body(world), headers=headers)
        replay = await client.post("/api/v1/orders", json=order_body(world), headers=headers)
        other = await client.post("/api/v1/orders", json=order_body(world, quantity="4"), headers=headers)
        assert (replay.json(), replay.headers["idempotent-replayed"]) == (first.json(), "true")
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
        assert await _order_count(session) == 1

    async def test_bad_quantities_are_422_and_store_nothing(self, client: AsyncClient, session: AsyncSession,
                                                            world: OrderWorld) -> None:
        for line, code in (({"quantity": "0"}, "validation_failed"), ({"quantity": "-2"}, "validation_failed"),
                           ({"quantity": 2.5}, "validation_failed"), ({"quantity": "2.5", "unit": "H87"},
                                                                      "order_quantity_not_whole"),
                           ({"tax_rate": "17"}, "validation_failed"), ({"unit": "KGM"}, "order_unit_incompatible"),
                           ({"material_id": str(world.site_id)}, "order_material_unknown")):
            response = await client.post("/api/v1/orders", json=order_body(world, **line), headers=world.buyer.headers)
            assert problem(response) == (422, "application/problem+json", code), line
        assert await _order_count(session) == 0

    async def test_supplier_cannot_place_orders(self, client: AsyncClient, world: OrderWorld) -> None:
        response = await client.post("/api/v1/orders", json=order_body(world), headers=world.supplier.headers)
        assert problem(response) == (403, "application/problem+json", "permission_denied")

    async def test_cart_not_offered_by_that_supplier(self, client: AsyncClient, world: OrderWorld) -> None:
        body = {"supplier_org_id": str(world.other_supplier.org.id), "delivery_site_id": str(world.site_id),
                "lines": [{"material_code": world.bolt.code, "quantity": "100", "unit": "H87"}]}
        response = await client.post("/api/v1/orders/from-cart", json=body, headers=world.buyer.headers)
        assert problem(response) == (422, "application/problem+json", "order_material_not_offered")


class TestSteps:
    async def test_supplier_confirms_partially_and_the_detail_shows_the_timeline(
        self, client: AsyncClient, world: OrderWorld
    ) -> None:
        order = await sent_order(client, world)
        detail = await client.get(f"/api/v1/orders/{order['id']}", headers=world.supplier.headers)
        line_id = detail.json()["lines"][0]["id"]
        confirmed = await client.post(
            f"/api/v1/orders/{order['id']}/confirm", json={"lines": [{"line_id": line_id, "quantity": "2"}]},
            headers=world.supplier.headers | {"If-Match": detail.headers["etag"], "Idempotency-Key": "confirm-0001"})
        assert (confirmed.status_code, confirmed.json()["confirmation"], confirmed.json()["gross_total"]) == (
            200, "partial", "27.9")
        detail = await client.get(f"/api/v1/orders/{order['id']}", headers=world.buyer.headers)
        assert [event["kind"] for event in detail.json()["timeline"]] == [
            "order.created", "order.submitted", "order.sent", "order.confirmed"]
        assert detail.json()["lines"][0]["confirmed_quantity"] == "2"

    async def test_refusals_are_problems_and_change_nothing(self, client: AsyncClient, world: OrderWorld) -> None:
        order = await sent_order(client, world)
        url, etag = f"/api/v1/orders/{order['id']}", order["etag"]
        other = await client.post(f"{url}/confirm", headers=world.other_supplier.headers | {"If-Match": etag})
        stale = await client.post(f"{url}/confirm", headers=world.supplier.headers | {"If-Match": '"1"'})
        blind = await client.post(f"{url}/confirm", headers=world.supplier.headers)
        illegal = await client.post(f"{url}/submit", headers=world.buyer.headers | {"If-Match": etag})
        buyer_confirms = await client.post(f"{url}/confirm", headers=world.buyer.headers | {"If-Match": etag})
        supplier_receives = await client.post(f"{url}/receive", headers=world.supplier.headers | {"If-Match": etag})
        assert [problem(r)[0::2] for r in (other, stale, blind, illegal, buyer_confirms, supplier_receives)] == [
            (404, "order_not_found"), (412, "version_conflict"), (428, "if_match_required"),
            (409, "order_transition_not_allowed"), (403, "permission_denied"), (403, "order_wrong_party")]
        after = await client.get(url, headers=world.buyer.headers)
        assert (after.json()["status"], after.headers["etag"]) == ("sent", etag)

    async def test_list_filters_and_cursor(self, client: AsyncClient, world: OrderWorld) -> None:
        for _ in range(3):
            await client.post("/api/v1/orders", json=order_body(world), headers=world.buyer.headers)
        await sent_order(client, world)
        first = await client.get("/api/v1/orders?limit=2&status=draft", headers=world.buyer.headers)
        second = await client.get(f"/api/v1/orders?limit=2&status=draft&cursor={first.json()['next_cursor']}",
                                  headers=world.buyer.headers)
        inbox = await client.get("/api/v1/orders/inbox", headers=world.supplier.headers)
        numbers = [o["number"] for o in first.json()["items"] + second.json()["items"]]
        assert (len(numbers), len(set(numbers)), second.json()["next_cursor"]) == (3, 3, None)
        assert [o["status"] for o in inbox.json()] == ["sent"]
        bad = await client.get("/api/v1/orders?cursor=bm90LWEtY3Vyc29y", headers=world.buyer.headers)
        assert problem(bad)[0::2] == (422, "cursor_invalid")


class TestConcurrentApprovers:
    async def test_two_approvers_at_once_one_wins(self, committed_client: AsyncClient, engine: AsyncEngine) -> None:
        # given an order waiting for two approvals, committed for real
        async with make_sessionmaker(engine)() as setup, setup.begin():
            world = await make_world(setup)
            await add_rule(setup, world, min_amount="0", approvals=2)
            order = await place_order(setup, world)
            await act_as(setup, world.buyer)
            order = await transitions.submit_order(setup, actor=owner_actor(world.buyer), order_id=order.id,
                                                   expected_version=order.version)
        headers = {"If-Match": f'"{order.version}"'}
        # when both approvers approve the same version at the same moment
        responses = await asyncio.gather(*(
            committed_client.post(f"/api/v1/orders/{order.id}/approve", headers=member.headers | headers)
            for member in (world.approver, world.second_approver)))
        # then one approval counts and the other is told to read again
        assert sorted(r.status_code for r in responses) == [200, 412]
        async with make_sessionmaker(engine)() as check:
            stored = await check.get(PurchaseOrder, order.id)
            approvals = await check.scalar(select(func.count()).select_from(OrderEvent).where(
                OrderEvent.order_id == order.id, OrderEvent.kind == "order.approved"))
        assert stored is not None and (stored.approvals_given, stored.status, approvals) == (1, "submitted", 1)


class TestRulesAndChanges:
    async def test_only_org_admins_keep_approval_rules(self, client: AsyncClient, world: OrderWorld) -> None:
        rule = {"name": "big orders", "currency": "CNY", "min_amount": "50000", "approvals_required": 2}
        created = await client.post("/api/v1/orders/approval-rules", json=rule, headers=world.admin.headers)
        refused = await client.post("/api/v1/orders/approval-rules", json=rule, headers=world.approver.headers)
        updated = await client.put(f"/api/v1/orders/approval-rules/{created.json()['id']}",
                                   json=rule | {"min_amount": "60000"},
                                   headers=world.admin.headers | {"If-Match": created.headers["etag"]})
        assert (created.status_code, created.json()["min_amount"]) == (201, "50000")
        assert problem(refused)[0::2] == (403, "permission_denied")
        assert (updated.json()["min_amount"], updated.headers["etag"]) == ("60000", '"2"')

    async def test_change_order_is_answered_by_the_other_party(self, client: AsyncClient, world: OrderWorld) -> None:
        order = await sent_order(client, world)
        url = f"/api/v1/orders/{order['id']}"
        confirmed = await client.post(f"{url}/confirm", headers=world.supplier.headers | {"If-Match": order["etag"]})
        line_id = (await client.get(url, headers=world.buyer.headers)).json()["lines"][0]["id"]
        etag = {"If-Match": confirmed.headers["etag"]}
        proposed = await client.post(f"{url}/changes", json={"reason": "need more", "lines": [
            {"line_id": line_id, "quantity": "5"}]}, headers=world.buyer.headers | etag)
        own = await client.post(f"{url}/changes/{proposed.json()['id']}/accept", headers=world.buyer.headers | etag)
        accepted = await client.post(f"{url}/changes/{proposed.json()['id']}/accept",
                                     headers=world.supplier.headers | etag)
        after = await client.get(url, headers=world.buyer.headers)
        assert (proposed.status_code, problem(own)[0::2], accepted.json()["status"]) == (
            201, (403, "order_wrong_party"), "accepted")
        assert (after.json()["lines"][0]["quantity"], after.json()["gross_total"]) == ("5", "69.75")

    async def test_proposer_withdraws_a_change_order(self, client: AsyncClient, world: OrderWorld) -> None:
        order = await sent_order(client, world)
        url = f"/api/v1/orders/{order['id']}"
        confirmed = await client.post(f"{url}/confirm", headers=world.supplier.headers | {"If-Match": order["etag"]})
        line_id = (await client.get(url, headers=world.buyer.headers)).json()["lines"][0]["id"]
        etag = {"If-Match": confirmed.headers["etag"]}
        proposed = await client.post(f"{url}/changes", json={"reason": "need more", "lines": [
            {"line_id": line_id, "quantity": "5"}]}, headers=world.buyer.headers | etag)
        theirs = await client.post(f"{url}/changes/{proposed.json()['id']}/withdraw",
                                   headers=world.supplier.headers | etag)
        withdrawn = await client.post(f"{url}/changes/{proposed.json()['id']}/withdraw",
                                      headers=world.buyer.headers | etag)
        assert (confirmed.headers["etag"], problem(theirs)[0::2]) == ('"4"', (403, "order_wrong_party"))
        assert (withdrawn.json()["status"], withdrawn.headers["etag"]) == ("withdrawn", '"5"')
