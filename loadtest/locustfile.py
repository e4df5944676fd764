"""The mixed workload: the platform's users as Locust sees them, over HTTP only (nothing from the app is imported).

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8000   (with TRADELOOM_BENCH_FIXTURES=fixtures.json)

``loadtest.bench`` writes the fixtures file (tokens, supplier and site ids, material codes, handles) from the
benchmark database and runs this file headless. The mix, by weight of users:

| user | weight | what it does |
|---|---:|---|
| ``CatalogueBrowser`` | 40 | searches the catalogue (zh and en words), reads prices |
| ``OrderingBuyer`` | 25 | checks out a cart of 2–20 lines with a fresh Idempotency-Key and submits it |
| ``ConfirmingSupplier`` | 10 | reads its order inbox and confirms an order in full |
| ``ErpPriceUpdater`` | 5 | an ERP pushing price changes: reads an offer and updates it with If-Match |
| ``TraceabilityVisitor`` | 20 | the public scanning a QR label: resolves a handle, no sign-in |

Two suppliers' users editing the same order or offer at once is part of the mix: the loser's 412 or 409 is
counted as answered, not as a failure (``accept_concurrency_refusal``).
"""

import json
import os
import random
import uuid
from decimal import Decimal
from functools import cache
from typing import Any

from locust import HttpUser, between, task

SEARCH_WORDS = ["螺栓", "bearing", "不锈钢", "valve", "电机", "cable", "轴承", "pipe", "M8", "液压", "gloves", "钢板"]


@cache
def fixtures() -> dict[str, Any]:
    """What ``loadtest.bench`` prepared: ``buyers``, ``cart_lines``, ``price_queries``, ``offer_ids``, ``handles``…"""
    with open(os.environ["TRADELOOM_BENCH_FIXTURES"], encoding="utf-8") as file:
        return dict(json.load(file))


def accept_concurrency_refusal(answer: Any) -> None:
    """Another user changed the order or offer first: 412 (stale If-Match) or 409 is the API keeping the data
    right, as designed, not a failure of the platform; anything else not 2xx still fails."""
    if answer.status_code in (409, 412):
        answer.success()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class CatalogueBrowser(HttpUser):
    weight = 40
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.headers = bearer(random.choice(fixtures()["buyers"])["token"])  # noqa: S311

    @task(4)
    def search(self) -> None:
        self.client.get("/api/v1/catalog/search", params={"q": random.choice(SEARCH_WORDS)},  # noqa: S311
                        headers=self.headers, name="search")

    @task(1)
    def price(self) -> None:
        self.client.get("/api/v1/catalog/price", headers=self.headers, name="price",
                        params=random.choice(fixtures()["price_queries"]))  # noqa: S311


class OrderingBuyer(HttpUser):
    weight = 25
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.buyer = random.choice(fixtures()["buyers"])  # noqa: S311

    @task
    def place_order(self) -> None:
        catalogue = fixtures()["cart_lines"]
        lines = random.sample(catalogue, k=random.randint(2, min(20, len(catalogue))))  # noqa: S311
        body = {"supplier_org_id": fixtures()["supplier_org_id"], "delivery_site_id": self.buyer["site_id"],
                "submit": True, "lines": lines}
        self.client.post("/api/v1/orders/from-cart", json=body, name="place order",
                         headers=bearer(self.buyer["token"]) | {"Idempotency-Key": str(uuid.uuid4())})


class ConfirmingSupplier(HttpUser):
    weight = 10
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.headers = bearer(fixtures()["supplier_token"])

    @task
    def confirm_one(self) -> None:
        inbox = self.client.get("/api/v1/orders/inbox", headers=self.headers, name="order inbox")
        waiting = [order for order in inbox.json() if order["status"] == "sent"] if inbox.ok else []
        if not waiting:
            return
        order = random.choice(waiting)  # noqa: S311
        with self.client.post(f"/api/v1/orders/{order['id']}/confirm", json={}, name="confirm order",
                              headers=self.headers | {"If-Match": f'"{order["version"]}"',
                                                      "Idempotency-Key": str(uuid.uuid4())},
                              catch_response=True) as answer:
            accept_concurrency_refusal(answer)


class ErpPriceUpdater(HttpUser):
    weight = 5
    wait_time = between(1, 2)

    def on_start(self) -> None:
        self.headers = bearer(fixtures()["supplier_api_key"])

    @task
    def update_price(self) -> None:
        offer_id = random.choice(fixtures()["offer_ids"])  # noqa: S311
        offer = self.client.get(f"/api/v1/catalog/offers/{offer_id}", headers=self.headers, name="read offer")
        if not offer.ok:
            return
        factor = Decimal(random.choice(["0.99", "1.01"]))  # noqa: S311
        tiers = [{"min_quantity": tier["min_quantity"],
                  "unit_price": str((Decimal(tier["unit_price"]) * factor).quantize(Decimal("0.0001")))}
                 for tier in offer.json()["price_tiers"]]
        with self.client.patch(f"/api/v1/catalog/offers/{offer_id}", json={"price_tiers": tiers}, name="update price",
                               headers=self.headers | {"If-Match": offer.headers.get("ETag", "")},
                               catch_response=True) as answer:
            accept_concurrency_refusal(answer)


class TraceabilityVisitor(HttpUser):
    weight = 20
    wait_time = between(0.5, 2)

    @task
    def resolve(self) -> None:
        handle = random.choice(fixtures()["handles"])  # noqa: S311
        self.client.get(f"/api/handles/{handle}", name="resolve handle")
