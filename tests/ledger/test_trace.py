"""Trace graphs across organizations: own events in full, other organizations' events as public facts."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis.epc import canonical_epc
from tests.factories import Member, make_member
from tests.ledger.epcis_documents import (
    CANONICAL_COIL,
    CANONICAL_PALLET,
    CANONICAL_PART_1,
    PART_1,
    cutting,
    document,
    packing,
    receiving,
    shipping,
    when,
)
from tradeloom.identity.roles import Role

ASSEMBLY = "urn:epc:id:sgtin:4023333.012345.900"
CANONICAL_ASSEMBLY = canonical_epc(ASSEMBLY)


def assembling() -> dict[str, Any]:
    return {"type": "TransformationEvent", **when(18), "bizStep": "assembling", "inputEPCList": [PART_1],
            "outputEPCList": [ASSEMBLY], "readPoint": {"id": "urn:epc:id:sgln:4023333.00002.0"}}


@pytest.fixture
async def members(session: AsyncSession) -> tuple[Member, Member]:
    return (await make_member(session, roles=(Role.SUPPLIER_SALES,)),
            await make_member(session, roles=(Role.WAREHOUSE,)))


@pytest.fixture
async def supply_chain(client: AsyncClient, members: tuple[Member, Member]) -> tuple[Member, Member]:
    """The supplier cuts, packs and ships; the buyer receives the pallet and assembles part 1."""
    supplier, buyer = members
    for member, events in ((supplier, (cutting(), packing(), shipping())), (buyer, (receiving(), assembling()))):
        response = await client.post("/api/v1/epcis/capture", json=document(*events), headers=member.headers)
        assert response.status_code == 201
    return supplier, buyer


def by_step(graph: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {event["bizStep"]: event for event in graph["events"]}


class TestTraceGraph:
    async def test_walks_upstream_and_downstream_across_organizations(
        self, client: AsyncClient, supply_chain: tuple[Member, Member]
    ) -> None:
        _, buyer = supply_chain
        response = await client.get(f"/api/v1/trace/{PART_1}", headers=buyer.headers)
        assert response.status_code == 200
        graph = response.json()
        assert graph["identifier"] == CANONICAL_PART_1
        assert graph["nodes"] == [
            {"id": CANONICAL_PART_1, "role": "start"}, {"id": CANONICAL_COIL, "role": "upstream"},
            {"id": CANONICAL_PALLET, "role": "downstream"}, {"id": CANONICAL_ASSEMBLY, "role": "downstream"},
        ]
        steps = by_step(graph)
        assert {(e["from"], e["to"], e["relation"], e["event"]) for e in graph["edges"]} == {
            (CANONICAL_COIL, CANONICAL_PART_1, "transformed_into", steps["commissioning"]["id"]),
            (CANONICAL_PART_1, CANONICAL_PALLET, "packed_into", steps["packing"]["id"]),
            (CANONICAL_PART_1, CANONICAL_ASSEMBLY, "transformed_into", steps["assembling"]["id"]),
        }
        assert [e["bizStep"] for e in graph["events"]] == [
            "commissioning", "packing", "shipping", "receiving", "assembling"]

    async def test_the_viewer_sees_its_own_events_in_full_and_others_as_public_facts(
        self, client: AsyncClient, supply_chain: tuple[Member, Member]
    ) -> None:
        supplier, buyer = supply_chain
        response = await client.get(f"/api/v1/trace/{PART_1}", headers=buyer.headers)
        steps = by_step(response.json())
        assert {step: e["visibility"] for step, e in steps.items()} == {
            "commissioning": "public", "packing": "public", "shipping": "public", "receiving": "full",
            "assembling": "full"}
        assert steps["shipping"] == {
            "id": steps["shipping"]["id"], "eventType": "ObjectEvent", "eventTime": "2026-11-20T02:00:00+00:00",
            "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
            "eventHash": steps["shipping"]["eventHash"],
            "recordedBy": {"orgId": str(supplier.org.id), "name": f"{supplier.org.name_zh} / {supplier.org.name_en}"},
            "visibility": "public",
        }
        assert steps["receiving"]["event"] == receiving()
        # the supplier's where and with whom never reach the buyer
        assert "PO-778" not in response.text and "4012345000115" not in response.text and "CNC-7" not in response.text

    async def test_the_supplier_sees_the_buyers_events_only_as_public_facts(
        self, client: AsyncClient, supply_chain: tuple[Member, Member]
    ) -> None:
        supplier, _ = supply_chain
        response = await client.get(f"/api/v1/trace/{CANONICAL_PALLET}", headers=supplier.headers)
        steps = by_step(response.json())
        assert steps["packing"]["event"] == packing()
        assert steps["receiving"]["visibility"] == "public" and "event" not in steps["receiving"]
        assert canonical_epc(receiving()["readPoint"]["id"]) not in response.text
        assert "4023333" not in response.text

    async def test_a_published_handle_traces_as_its_gs1_item(
        self, client: AsyncClient, supply_chain: tuple[Member, Member]
    ) -> None:
        supplier, buyer = supply_chain
        body = {"suffix": "PART-1", "gtin": "04012345778892", "serial": "1", "published": True}
        assert (await client.post("/api/v1/identifiers", json=body, headers=supplier.headers)).status_code == 201
        response = await client.get("/api/v1/trace/88.118.8866/PART-1", headers=buyer.headers)
        assert response.json()["identifier"] == CANONICAL_PART_1
        assert len(response.json()["nodes"]) == 4

    async def test_an_unknown_handle_is_404(self, client: AsyncClient, members: tuple[Member, Member]) -> None:
        response = await client.get("/api/v1/trace/88.118.8866/NOPE", headers=members[0].headers)
        assert (response.status_code, response.json()["code"]) == (404, "trace_start_unknown")

    async def test_signing_in_is_required(self, client: AsyncClient) -> None:
        assert (await client.get(f"/api/v1/trace/{PART_1}")).status_code == 401
