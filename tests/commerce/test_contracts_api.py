"""Contracts over the API: two-party signatures, verification, amendments, price lists, call-offs and caps."""

import base64
import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.pricing import PriceRule, price_for
from ledger.models import EvidenceRecord
from tests.commerce_factories import Market, framework_body, make_market
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner
from tradeloom.db import utcnow
from tradeloom.identity.roles import OrgKind, Role

API = "/api/v1/contracts"


async def _draft(client: AsyncClient, market: Market, **overrides: Any) -> dict[str, Any]:
    created = await client.post(API, json=framework_body(market, **overrides), headers=market.buyer.headers)
    assert created.status_code == 201, created.text
    return created.json()


async def _sign(client: AsyncClient, contract: dict[str, Any], member: Member, **body: Any) -> Any:
    current = await client.get(f"{API}/{contract['id']}", headers=member.headers)
    return await client.post(f"{API}/{contract['id']}/signatures", json=body,
                             headers=member.headers | {"If-Match": current.headers["etag"]})


async def _signed(client: AsyncClient, market: Market, **overrides: Any) -> dict[str, Any]:
    contract = await _draft(client, market, **overrides)
    assert (await _sign(client, contract, market.buyer)).status_code == 201
    signed = await _sign(client, contract, market.suppliers[0])
    assert signed.status_code == 201, signed.text
    return signed.json()


class TestSigning:
    async def test_effective_only_when_both_parties_signed(self, client: AsyncClient, session: AsyncSession) -> None:
        # given a framework drafted by the buyer
        market = await make_market(session)
        contract = await _draft(client, market)
        assert contract["status"] == "awaiting_signatures"
        # when the buyer signs, then it still waits for the supplier
        first = await _sign(client, contract, market.buyer)
        assert (first.status_code, first.json()["status"]) == (201, "awaiting_signatures")
        # when the supplier signs too, then it is in force and its prices reach the buyer's price engine
        second = await _sign(client, contract, market.suppliers[0])
        assert (second.json()["status"], second.json()["signed_terms_version"]) == ("effective", 1)
        await act_as(session, market.buyer)
        quote = await price_for(session, buyer_org_id=market.buyer.org.id, material_id=market.bolt.id,
                                quantity=Decimal(500), unit="H87", on_date=utcnow().date())
        assert (quote.rule, quote.order_unit, quote.unit_price, quote.supplier_org_id) == (
            PriceRule.CONTRACT, "BX", Decimal("9"), market.suppliers[0].org.id)  # 0.09 a piece, boxes of 100
        # and both signatures are ledger evidence
        await as_owner(session)
        recorded = await session.scalar(select(func.count()).where(EvidenceRecord.kind == "contract.signed"))
        assert recorded == 2

    async def test_signatures_verify_against_the_canonical_hash(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        market = await make_market(session)
        contract = await _signed(client, market)
        checked = (await client.get(f"{API}/{contract['id']}/verification", headers=market.buyer.headers)).json()
        (terms,) = (await client.get(f"{API}/{contract['id']}/terms", headers=market.buyer.headers)).json()
        assert checked["document_hash"] == hashlib.sha256(rfc8785.dumps(terms["document"])).hexdigest()
        assert checked["hash_matches_document"] and checked["fully_signed"]
        assert sorted(s["org_id"] for s in checked["signatures"] if s["valid"]) == sorted(
            [str(market.buyer.org.id), str(market.suppliers[0].org.id)])

    async def test_bad_requests_change_nothing(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        contract = await _draft(client, market)
        stale = await client.post(f"{API}/{contract['id']}/signatures", json={},
                                  headers=market.buyer.headers | {"If-Match": '"7"'})
        assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")
        blind = await client.post(f"{API}/{contract['id']}/signatures", json={}, headers=market.buyer.headers)
        assert blind.status_code == 428
        await as_owner(session)
        stranger = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        outsider = await client.post(f"{API}/{contract['id']}/signatures", json={},
                                     headers=stranger.headers | {"If-Match": '"1"'})
        assert (outsider.status_code, outsider.json()["code"]) == (404, "contract.not_found")
        assert (await _sign(client, contract, market.buyer)).status_code == 201
        twice = await _sign(client, contract, market.buyer)
        assert (twice.status_code, twice.json()["code"]) == (409, "contract.already_signed")

    async def test_an_uploaded_key_signs_offline(self, client: AsyncClient, session: AsyncSession) -> None:
        # given a supplier that keeps its own Ed25519 key
        market = await make_market(session)
        supplier = market.suppliers[0]
        private_key = Ed25519PrivateKey.generate()
        public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        uploaded = await client.post("/api/v1/signing-keys/uploaded", json={"public_key": base64.b64encode(public)
                                     .decode()}, headers=supplier.headers)
        assert uploaded.json()["custody"] == "uploaded"
        contract = await _draft(client, market)
        digest = bytes.fromhex((await client.get(f"{API}/{contract['id']}/verification",
                                                 headers=supplier.headers)).json()["document_hash"])
        # when it signs without a signature, or with another org's key, then it is refused
        missing = await _sign(client, contract, supplier)
        assert (missing.status_code, missing.json()["code"]) == (422, "contract.signature_required")
        forged = base64.b64encode(Ed25519PrivateKey.generate().sign(digest)).decode()
        wrong = await _sign(client, contract, supplier, signature=forged)
        assert (wrong.status_code, wrong.json()["code"]) == (422, "contract.bad_signature")
        # when it uploads its own signature of the hash, then it counts
        good = await _sign(client, contract, supplier, signature=base64.b64encode(private_key.sign(digest)).decode())
        assert good.status_code == 201, good.text


class TestAmendments:
    async def test_amended_terms_apply_only_once_both_signed_and_history_is_kept(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        market = await make_market(session)
        contract = await _signed(client, market)
        body = framework_body(market, reason="Price review Q3") | {
            "items": [{"material_id": str(market.bolt.id), "unit_price": "0.08", "quantity_cap": "20000"}]}
        body.pop("supplier_org_id"), body.pop("kind"), body.pop("currency")
        current = await client.get(f"{API}/{contract['id']}", headers=market.buyer.headers)
        amended = await client.post(f"{API}/{contract['id']}/amendments", json=body,
                                    headers=market.buyer.headers | {"If-Match": current.headers["etag"]})
        assert amended.status_code == 201, amended.text
        assert (amended.json()["status"], amended.json()["items"][0]["unit_price"]) == (
            "amendment_awaiting_signatures", "0.09")
        await _sign(client, contract, market.buyer)
        done = (await _sign(client, contract, market.suppliers[0])).json()
        assert (done["status"], done["signed_terms_version"], done["items"][0]["unit_price"],
                done["items"][0]["quantity_cap"]) == ("effective", 2, "0.08", "20000")
        history = (await client.get(f"{API}/{contract['id']}/terms", headers=market.buyer.headers)).json()
        assert [(t["terms_version"], t["change"]) for t in history] == [(1, "original"), (2, "Price review Q3")]
        await act_as(session, market.buyer)
        quote = await price_for(session, buyer_org_id=market.buyer.org.id, material_id=market.bolt.id,
                                quantity=Decimal(500), unit="H87", on_date=utcnow().date())
        assert (quote.order_unit, quote.unit_price) == ("BX", Decimal("8"))


class TestCallOffs:
    async def test_call_offs_draw_down_and_stop_at_the_cap(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        contract = await _signed(client, market)
        url = f"{API}/{contract['id']}/call-offs"

        def order(quantity: str) -> dict[str, Any]:
            return {"delivery_site_id": str(market.plant_id),
                    "lines": [{"material_id": str(market.bolt.id), "quantity": quantity}]}

        placed = await client.post(url, json=order("9000"), headers=market.buyer.headers)
        assert (placed.status_code, placed.json()["amount"]) == (201, "810")
        over = await client.post(url, json=order("1001"), headers=market.buyer.headers)
        assert (over.status_code, over.json()["code"]) == (409, "call_off_over_cap")
        after = (await client.get(f"{API}/{contract['id']}", headers=market.buyer.headers)).json()
        assert (after["items"][0]["quantity_drawn"], after["value_drawn"]) == ("9000", "810")
        assert (await client.post(url, json=order("1000"), headers=market.buyer.headers)).status_code == 201

    async def test_unsigned_framework_cannot_be_called_off(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        contract = await _draft(client, market, valid_from=(utcnow().date() - dt.timedelta(days=1)).isoformat())
        refused = await client.post(f"{API}/{contract['id']}/call-offs", headers=market.buyer.headers, json={
            "delivery_site_id": str(market.plant_id), "lines": [{"material_id": str(market.bolt.id), "quantity": "1"}]})
        assert (refused.status_code, refused.json()["code"]) == (409, "contract.not_effective")
