"""Scorecards over the API: one supplier's card, the buyer's list, the SRM export (CSV, XLSX), reviews."""

import csv
import io
import uuid
from decimal import Decimal

import redis
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.supplier_performance import jobs
from commerce.supplier_performance.cache import PLATFORM_GENERATION, supplier_generation
from tests.logistics_factories import make_logistics_world
from tests.supplier_performance_factories import delivered, set_status


async def test_scorecard_list_and_exports(client: AsyncClient, session: AsyncSession) -> None:
    # given one late delivery with 2 of 10 boxes rejected
    world = await make_logistics_world(session)
    await delivered(session, world, due_in_days=-3, accepted="8", rejected="2")
    buyer, supplier = world.orders.buyer, world.orders.supplier
    # when the buyer reads the supplier's scorecard
    response = await client.get(f"/api/v1/suppliers/{supplier.org.id}/scorecard", headers=buyer.headers)
    # then its own facts are there, metric by metric, and the platform breakdown is withheld
    assert response.status_code == 200, response.text
    card = response.json()
    metrics = {m["name"]: (m["rate"], m["observations"]) for m in card["own"]["metrics"]}
    assert metrics["on_time"] == ("0", 1) and metrics["quality"] == ("0.8", 1)
    assert (card["own"]["has_history"], card["platform"]["metrics"], len(card["trend"])) == (True, None, 12)
    # and the list and both exports carry the same row
    rows = (await client.get("/api/v1/suppliers/scorecards", headers=buyer.headers)).json()
    assert [(r["supplier_org_id"], r["own"]["score"]) for r in rows] == [(str(supplier.org.id), card["own"]["score"])]
    exported = await client.get("/api/v1/suppliers/scorecards/export?format=csv", headers=buyer.headers)
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["supplier_org_id"], r["score"], r["on_time_rate"], r["quality_events"]) for r in table] == [
        (str(supplier.org.id), card["own"]["score"], "0", "1")]
    workbook = await client.get("/api/v1/suppliers/scorecards/export?format=xlsx", headers=buyer.headers)
    sheet = load_workbook(io.BytesIO(workbook.content), read_only=True)["scorecards"]
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert (header[0], first[0], Decimal(str(first[3]))) == ("supplier_org_id", str(supplier.org.id),
                                                             Decimal(card["own"]["score"]))


async def test_refusals(client: AsyncClient, session: AsyncSession) -> None:
    world = await make_logistics_world(session)
    buyer, supplier = world.orders.buyer, world.orders.supplier
    bad = await client.get("/api/v1/suppliers/scorecards/export?format=pdf", headers=buyer.headers)
    assert bad.status_code == 422
    assert (await client.get("/api/v1/suppliers/scorecards", headers=supplier.headers)).status_code == 403
    unknown = await client.get(f"/api/v1/suppliers/{uuid.uuid4()}/scorecard", headers=buyer.headers)
    assert unknown.status_code == 404
    not_supplier = await client.get(f"/api/v1/suppliers/{buyer.org.id}/scorecard", headers=buyer.headers)
    assert (not_supplier.status_code, not_supplier.json()["code"]) == (404, "supplier.not_found")


async def test_review_over_the_api(client: AsyncClient, session: AsyncSession) -> None:
    world = await make_logistics_world(session)
    order, _ = await delivered(session, world, due_in_days=5)
    buyer = world.orders.buyer
    body = {"order_id": str(order.id), "stars": 5, "comment": "准时"}
    early = await client.post("/api/v1/supplier-reviews", json=body, headers=buyer.headers)
    assert (early.status_code, early.json()["code"]) == (409, "review.order_not_finished")
    await set_status(session, order.id, "received")
    posted = await client.post("/api/v1/supplier-reviews", json=body, headers=buyer.headers)
    assert (posted.status_code, posted.json()["stars"]) == (201, 5)
    again = await client.post("/api/v1/supplier-reviews", json=body, headers=buyer.headers)
    assert (again.status_code, again.json()["code"]) == (409, "review.exists")
    invalid = await client.post("/api/v1/supplier-reviews", json={**body, "stars": 6}, headers=buyer.headers)
    assert invalid.status_code == 422
    supplier_try = await client.post("/api/v1/supplier-reviews", json=body, headers=world.orders.supplier.headers)
    assert supplier_try.status_code == 403


async def test_cached_scorecards_go_stale_by_event(client: AsyncClient, session: AsyncSession,
                                                   redis_client: redis.Redis) -> None:
    # given a scorecard read once (now cached)
    world = await make_logistics_world(session)
    order, _ = await delivered(session, world, due_in_days=5)
    buyer, supplier = world.orders.buyer, world.orders.supplier
    url = f"/api/v1/suppliers/{supplier.org.id}/scorecard"
    first = (await client.get(url, headers=buyer.headers)).json()
    # when a review is written, the cached card still shows the old figures
    await set_status(session, order.id, "closed")
    body = {"order_id": str(order.id), "stars": 1, "comment": ""}
    assert (await client.post("/api/v1/supplier-reviews", json=body, headers=buyer.headers)).status_code == 201
    assert (await client.get(url, headers=buyer.headers)).json() == first
    # then once the outbox delivers supplier.reviewed, the supplier's generation moves and the card is fresh
    assert jobs.bump(redis_client, [{"topic": "supplier.reviewed",
                                     "payload": {"supplier_org_id": str(supplier.org.id)}}]) == [
        supplier_generation(supplier.org.id)]
    fresh = (await client.get(url, headers=buyer.headers)).json()
    assert fresh["own"]["average_review_stars"] == "1"
    assert jobs.bump(redis_client, [{"topic": "rfq.published", "payload": {}}]) == [PLATFORM_GENERATION]


def test_a_dispatched_batch_bumps_each_named_supplier_once(redis_client: redis.Redis) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    events = [{"topic": "order.sent", "payload": {"supplier_org_id": first}},
              {"topic": "order.confirmed", "payload": {"supplier_org_id": first}},
              {"topic": "invoice.issued", "payload": {"supplier_org_id": second}},
              {"topic": "rfq.published", "payload": {}}]
    bumped = jobs.bump(redis_client, events)
    assert sorted(bumped) == sorted([supplier_generation(first), supplier_generation(second), PLATFORM_GENERATION])
    assert [redis_client.get(counter) for counter in bumped] == [b"1", b"1", b"1"]
