"""EPCIS capture: validation with JSON pointers, storage, evidence with the event hash, replays, queries."""

from typing import Any

import orjson
import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.canonical import EvidenceEntry
from ledger.epcis.hashing import event_hash
from ledger.epcis.models import StoredEpcisEvent
from ledger.models import EvidenceRecord
from tests.factories import Member, make_member
from tests.ledger.epcis_documents import (
    CANONICAL_PALLET,
    PALLET,
    document,
    packing,
    shipping,
)
from tradeloom.identity.roles import Role

CAPTURE = "/api/v1/epcis/capture"


@pytest.fixture
async def warehouse(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.WAREHOUSE,))


async def count(session: AsyncSession, model: Any) -> int:
    await session.execute(text("RESET ROLE"))
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestCapture:
    async def test_stores_each_event_and_records_its_hash_as_evidence(
        self, client: AsyncClient, warehouse: Member, session: AsyncSession
    ) -> None:
        # given
        event = shipping() | {"eventID": "urn:uuid:0b9c8d2e-3f41-4a55-8e7c-1d2a3b4c5d6e"}
        expected_hash = event_hash(event, {"ex": "https://ns.tradeloom.dev/"})
        # when
        response = await client.post(CAPTURE, json=document(packing(), event), headers=warehouse.headers)
        # then
        assert response.status_code == 201
        body = response.json()
        assert body["eventCount"] == 2
        assert [(e["eventType"], e["status"]) for e in body["events"]] == [
            ("AggregationEvent", "captured"), ("ObjectEvent", "captured")]
        assert body["events"][1] == {"eventID": "urn:uuid:0b9c8d2e-3f41-4a55-8e7c-1d2a3b4c5d6e",
                                     "eventType": "ObjectEvent", "eventHash": expected_hash, "status": "captured"}
        assert body["events"][0]["eventID"] == body["events"][0]["eventHash"]
        await session.execute(text("RESET ROLE"))
        records = (await session.scalars(select(EvidenceRecord).order_by(EvidenceRecord.id))).all()
        assert [(r.kind, r.subject) for r in records] == [
            ("epcis.AggregationEvent", CANONICAL_PALLET),
            ("epcis.ObjectEvent", "urn:uuid:0b9c8d2e-3f41-4a55-8e7c-1d2a3b4c5d6e")]
        assert EvidenceEntry.from_canonical(records[1].entry_data).payload == {
            "eventHash": expected_hash, "eventID": "urn:uuid:0b9c8d2e-3f41-4a55-8e7c-1d2a3b4c5d6e",
            "eventTime": "2026-11-20T02:00:00.000Z", "bizStep": "shipping"}
        objects = select(StoredEpcisEvent).where(StoredEpcisEvent.event_type == "ObjectEvent")
        stored = (await session.scalars(objects)).one()
        assert (stored.org_id, stored.epcs, stored.event_hash) == (warehouse.org.id, [CANONICAL_PALLET], expected_hash)

    async def test_a_replayed_capture_stores_and_evidences_nothing_twice(
        self, client: AsyncClient, warehouse: Member, session: AsyncSession
    ) -> None:
        await client.post(CAPTURE, json=document(shipping()), headers=warehouse.headers)
        replay = await client.post(CAPTURE, json=document(shipping()), headers=warehouse.headers)
        assert replay.status_code == 201
        assert [e["status"] for e in replay.json()["events"]] == ["duplicate"]
        assert await count(session, StoredEpcisEvent) == 1
        assert await count(session, EvidenceRecord) == 1

    async def test_an_idempotency_key_replays_the_first_response(self, client: AsyncClient, warehouse: Member) -> None:
        headers = warehouse.headers | {"Idempotency-Key": "epcis-capture-0001"}
        first = await client.post(CAPTURE, json=document(shipping()), headers=headers)
        replay = await client.post(CAPTURE, json=document(shipping()), headers=headers)
        assert replay.json() == first.json()
        assert replay.headers["idempotent-replayed"] == "true"

    async def test_the_same_event_id_with_other_content_is_409(self, client: AsyncClient, warehouse: Member) -> None:
        event_id = {"eventID": "urn:uuid:7d1e2f3a-4b5c-4d6e-8f70-112233445566"}
        await client.post(CAPTURE, json=document(shipping() | event_id), headers=warehouse.headers)
        forged = await client.post(CAPTURE, json=document(shipping() | event_id | {"disposition": "stolen"}),
                                   headers=warehouse.headers)
        assert (forged.status_code, forged.json()["code"]) == (409, "epcis_event_id_conflict")

    async def test_a_buyer_may_not_capture(self, client: AsyncClient, session: AsyncSession) -> None:
        buyer = await make_member(session, roles=(Role.BUYER,))
        response = await client.post(CAPTURE, json=document(shipping()), headers=buyer.headers)
        assert response.status_code == 403


class TestMalformedDocuments:
    async def test_broken_json_is_400(self, client: AsyncClient, warehouse: Member) -> None:
        response = await client.post(CAPTURE, content=b'{"type": "EPCISDocument",',
                                     headers=warehouse.headers | {"content-type": "application/ld+json"})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "malformed_json"

    @pytest.mark.parametrize(("mutate", "pointer", "code"), [
        (lambda d: d["epcisBody"]["eventList"][0].pop("action"), "/epcisBody/eventList/0/action", "missing"),
        (lambda d: d["epcisBody"]["eventList"][0].update(eventTime="2026-11-20T10:00:00"),
         "/epcisBody/eventList/0/eventTime", "timezone_aware"),
        (lambda d: d["epcisBody"]["eventList"][0].update(epcLst=[PALLET]), "/epcisBody/eventList/0", "value_error"),
        (lambda d: d["epcisBody"]["eventList"][0].update(type="MagicEvent"), "/epcisBody/eventList/0",
         "union_tag_invalid"),
        (lambda d: d["epcisBody"]["eventList"][0].update(epcList=[]), "/epcisBody/eventList/0", "value_error"),
        (lambda d: d.update({"@context": ["https://example.com/other.jsonld"]}), "", "value_error"),
        (lambda d: d["epcisBody"].update(eventList=[]), "/epcisBody/eventList", "too_short"),
        (lambda d: d["epcisBody"]["eventList"][0].update(eventTime=1763604000), "/epcisBody/eventList/0/eventTime",
         "value_error"),
        (lambda d: d["epcisBody"]["eventList"][0].update(eventTimeZoneOffset="+8"),
         "/epcisBody/eventList/0/eventTimeZoneOffset", "string_pattern_mismatch"),
    ])
    async def test_invalid_documents_are_422_with_the_failing_pointer(
        self, client: AsyncClient, warehouse: Member, session: AsyncSession, mutate: Any, pointer: str, code: str
    ) -> None:
        body = document(shipping())
        mutate(body)
        response = await client.post(CAPTURE, content=orjson.dumps(body), headers=warehouse.headers)
        assert response.status_code == 422
        assert response.json()["code"] == "epcis_invalid"
        assert [(e["pointer"], e["code"]) for e in response.json()["errors"]] == [(pointer, code)]
        assert await count(session, StoredEpcisEvent) == 0

    async def test_an_aggregation_that_adds_needs_a_parent(self, client: AsyncClient, warehouse: Member) -> None:
        orphan = packing()
        del orphan["parentID"]
        response = await client.post(CAPTURE, json=document(orphan), headers=warehouse.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["detail"] == "Value error, parentID is required when action is ADD"


    async def test_identifiers_that_are_not_gs1_keys_are_stored_as_sent(
        self, client: AsyncClient, warehouse: Member, session: AsyncSession
    ) -> None:
        odd = ["urn:epc:id:sgtin:abc.def.1", "urn:epc:id:sscc:12.", "urn:example:coil:7"]
        response = await client.post(CAPTURE, json=document(shipping() | {"epcList": odd}), headers=warehouse.headers)
        assert response.status_code == 201
        await session.execute(text("RESET ROLE"))
        assert (await session.scalars(select(StoredEpcisEvent.epcs))).one() == odd


class TestQuery:
    async def test_events_by_urn_or_digital_link_for_your_organization_only(
        self, client: AsyncClient, warehouse: Member, session: AsyncSession
    ) -> None:
        other = await make_member(session, roles=(Role.WAREHOUSE,))
        await client.post(CAPTURE, json=document(packing(), shipping()), headers=warehouse.headers)
        by_urn = await client.get("/api/v1/epcis/events", params={"epc": PALLET}, headers=warehouse.headers)
        by_link = await client.get("/api/v1/epcis/events", params={"epc": "https://brand.example/00/040123450000003338"},
                                   headers=warehouse.headers)
        theirs = await client.get("/api/v1/epcis/events", params={"epc": PALLET}, headers=other.headers)
        assert by_urn.json()["epc"] == CANONICAL_PALLET
        assert [e["event"]["bizStep"] for e in by_urn.json()["items"]] == ["packing", "shipping"]
        assert by_link.json()["items"] == by_urn.json()["items"]
        assert by_urn.json()["items"][1]["event"]["bizTransactionList"] == shipping()["bizTransactionList"]
        assert theirs.json() == {"epc": CANONICAL_PALLET, "items": []}
