"""Supplier offers over HTTP: who may publish, the rules of terms and price breaks, own-only edits, stock."""

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material
from catalog.schemas.materials import MaterialStatus
from tests.factories import Member, make_member, site_body
from tests.materials_factories import make_material, make_offer, offer_body
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

OFFERS = "/api/v1/catalog/offers"


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES, Role.ORG_ADMIN), kind=OrgKind.SUPPLIER)


@pytest.fixture
async def rival(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.BOTH)


@pytest.fixture
async def bolt(session: AsyncSession, supplier: Member, rival: Member) -> Material:
    return await make_material(session, supplier)


class TestCreateOffer:
    async def test_a_supplier_publishes_with_tiers_as_strings(
        self, client: AsyncClient, supplier: Member, bolt: Material
    ) -> None:
        response = await client.post(OFFERS, json=offer_body(bolt.id, supplier_part_number="NB-HB-M8-40"),
                                     headers=supplier.headers | {"Idempotency-Key": "offer-create-0001"})
        assert response.status_code == 201
        offer = response.json()
        assert (offer["org_id"], offer["supplier_part_number"], offer["order_unit"]) == (
            str(supplier.org.id), "NB-HB-M8-40", "BX")
        assert (offer["moq"], offer["pack_size"], offer["incoterm"], offer["status"]) == (
            "2", "2", "FCA", "active")
        assert offer["price_tiers"] == [
            {"min_quantity": "2", "unit_price": "12"},
            {"min_quantity": "10", "unit_price": "10.5"},
            {"min_quantity": "50", "unit_price": "9"},
        ]
        assert response.headers["etag"] == '"1"'
        replay = await client.post(OFFERS, json=offer_body(bolt.id, supplier_part_number="NB-HB-M8-40"),
                                   headers=supplier.headers | {"Idempotency-Key": "offer-create-0001"})
        assert (replay.json()["id"], replay.headers["idempotent-replayed"]) == (offer["id"], "true")

    async def test_a_buyer_organization_cannot_publish(self, client: AsyncClient, session: AsyncSession,
                                                       bolt: Material) -> None:
        buyer_sales = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.BUYER)
        response = await client.post(OFFERS, json=offer_body(bolt.id), headers=buyer_sales.headers)
        assert (response.status_code, response.json()["code"]) == (403, "catalog.not_a_supplier")

    @pytest.mark.parametrize(("overrides", "status", "code"), [
        ({"price_tiers": [{"min_quantity": "10", "unit_price": "9"}, {"min_quantity": "2", "unit_price": "12"}]},
         422, "catalog.tiers_not_ascending"),
        ({"price_tiers": [{"min_quantity": "2", "unit_price": "12"}, {"min_quantity": "2", "unit_price": "11"}]},
         422, "catalog.tiers_not_ascending"),
        ({"price_tiers": [{"min_quantity": "4", "unit_price": "12"}]}, 422, "catalog.tiers_start_above_moq"),
        ({"price_tiers": [{"min_quantity": "2", "unit_price": "0"}]}, 422, "validation_failed"),
        ({"price_tiers": [{"min_quantity": "2", "unit_price": 12.5}]}, 422, "validation_failed"),
        ({"price_tiers": [{"min_quantity": "2", "unit_price": "12", "currency": "USD"}]}, 422, "validation_failed"),
        ({"currency": "RMB"}, 422, "validation_failed"),
        ({"incoterm": "FOT"}, 422, "validation_failed"),
        ({"moq": "3"}, 422, "catalog.moq_not_whole_packs"),
        ({"order_unit": "KGM"}, 422, "catalog.incompatible_units"),
        ({"order_unit": "CT"}, 422, "catalog.pack_size_missing"),
        ({"valid_to": "2025-12-31"}, 422, "catalog.invalid_validity"),
    ])
    async def test_broken_terms_are_refused(
        self, client: AsyncClient, supplier: Member, bolt: Material, overrides: dict[str, object], status: int,
        code: str,
    ) -> None:
        response = await client.post(OFFERS, json=offer_body(bolt.id, **overrides), headers=supplier.headers)
        assert (response.status_code, response.json()["code"]) == (status, code)

    async def test_only_active_materials_are_offered(
        self, client: AsyncClient, session: AsyncSession, supplier: Member
    ) -> None:
        draft = await make_material(session, supplier, status=MaterialStatus.DRAFT)
        response = await client.post(OFFERS, json=offer_body(draft.id), headers=supplier.headers)
        assert (response.status_code, response.json()["code"]) == (422, "catalog.material_not_offerable")

    async def test_one_part_number_once_per_supplier(self, client: AsyncClient, supplier: Member, rival: Member,
                                                     bolt: Material) -> None:
        await client.post(OFFERS, json=offer_body(bolt.id, supplier_part_number="P-1"), headers=supplier.headers)
        again = await client.post(OFFERS, json=offer_body(bolt.id, supplier_part_number="P-1"),
                                  headers=supplier.headers)
        theirs = await client.post(OFFERS, json=offer_body(bolt.id, supplier_part_number="P-1"),
                                   headers=rival.headers)
        assert (again.status_code, again.json()["code"]) == (409, "catalog.part_number_taken")
        assert theirs.status_code == 201


class TestChangeOffer:
    async def test_the_owner_updates_tiers_with_if_match(self, client: AsyncClient, supplier: Member,
                                                         bolt: Material) -> None:
        offer = (await client.post(OFFERS, json=offer_body(bolt.id), headers=supplier.headers)).json()
        url = f"{OFFERS}/{offer['id']}"
        tiers = [{"min_quantity": "2", "unit_price": "11.80"}]
        updated = await client.patch(url, json={"price_tiers": tiers, "lead_time_days": 3},
                                     headers=supplier.headers | {"If-Match": '"1"'})
        assert updated.status_code == 200
        assert (updated.json()["price_tiers"], updated.json()["lead_time_days"], updated.headers["etag"]) == (
            [{"min_quantity": "2", "unit_price": "11.8"}], 3, '"2"')
        stale = await client.patch(url, json={"lead_time_days": 9}, headers=supplier.headers | {"If-Match": '"1"'})
        assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")
        broken = await client.patch(url, json={"moq": "1"}, headers=supplier.headers | {"If-Match": '"2"'})
        assert (broken.status_code, broken.json()["code"]) == (422, "catalog.moq_not_whole_packs")
        open_ended = await client.patch(url, json={"valid_to": None}, headers=supplier.headers | {"If-Match": '"2"'})
        emptied = await client.patch(url, json={"currency": None}, headers=supplier.headers | {"If-Match": '"3"'})
        assert (open_ended.status_code, open_ended.json()["valid_to"]) == (200, None)
        assert (emptied.status_code, emptied.json()["code"]) == (422, "catalog.field_required")

    async def test_another_suppliers_offer_is_not_found_to_edit_but_readable(
        self, client: AsyncClient, supplier: Member, rival: Member, bolt: Material
    ) -> None:
        offer = (await client.post(OFFERS, json=offer_body(bolt.id), headers=supplier.headers)).json()
        url = f"{OFFERS}/{offer['id']}"
        edit = await client.patch(url, json={"lead_time_days": 1}, headers=rival.headers | {"If-Match": '"1"'})
        withdraw = await client.delete(url, headers=rival.headers | {"If-Match": '"1"'})
        assert (edit.status_code, edit.json()["code"]) == (404, "catalog.offer_not_found")
        assert withdraw.status_code == 404
        assert (await client.get(url, headers=rival.headers)).json()["lead_time_days"] == 5
        assert (await client.get(OFFERS, headers=rival.headers)).json()["items"] == []

    async def test_withdraw(self, client: AsyncClient, supplier: Member, bolt: Material) -> None:
        offer = (await client.post(OFFERS, json=offer_body(bolt.id), headers=supplier.headers)).json()
        withdrawn = await client.delete(f"{OFFERS}/{offer['id']}", headers=supplier.headers | {"If-Match": '"1"'})
        assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")


class TestStock:
    async def test_stock_per_own_site_never_negative(
        self, client: AsyncClient, supplier: Member, rival: Member, bolt: Material
    ) -> None:
        site = (await client.post("/api/v1/sites", json=site_body("WH-1", kind="warehouse"),
                                  headers=supplier.headers)).json()
        rival_offer = (await client.post(OFFERS, json=offer_body(bolt.id), headers=rival.headers)).json()
        offer = (await client.post(OFFERS, json=offer_body(bolt.id), headers=supplier.headers)).json()
        url = f"{OFFERS}/{offer['id']}/stock/{site['id']}"
        first = await client.put(url, json={"quantity": "120"}, headers=supplier.headers)
        second = await client.put(url, json={"quantity": "80.5"}, headers=supplier.headers)
        assert (first.status_code, second.json()["quantity"]) == (200, "80.5")
        shown = (await client.get(f"{OFFERS}/{offer['id']}", headers=rival.headers)).json()["stock"]
        assert [(s["site_id"], s["quantity"]) for s in shown] == [(site["id"], "80.5")]
        negative = await client.put(url, json={"quantity": "-1"}, headers=supplier.headers)
        assert (negative.status_code, negative.json()["code"]) == (422, "validation_failed")
        foreign_site = await client.put(f"{OFFERS}/{rival_offer['id']}/stock/{site['id']}", json={"quantity": "1"},
                                        headers=rival.headers)
        assert (foreign_site.status_code, foreign_site.json()["code"]) == (404, "site_not_found")


async def test_offer_changes_ask_for_the_material_to_be_reindexed(client: AsyncClient, session: AsyncSession) -> None:
    # given a supplier's offer
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    material = await make_material(session, supplier)
    offer = await make_offer(session, supplier, material.id)
    # when it changes price
    changed = await client.patch(f"/api/v1/catalog/offers/{offer.id}", headers=supplier.headers | {"If-Match": '"1"'},
                                 json={"price_tiers": [{"min_quantity": "2", "unit_price": "9.90"}]})
    # then a material event names the material for the search index job (material.*)
    assert changed.status_code == 200
    events = (await session.execute(select(OutboxEvent.topic, OutboxEvent.payload).where(
        OutboxEvent.topic == "material.offers_changed").order_by(OutboxEvent.id))).all()
    assert [(topic, payload["material_id"], payload["change"]) for topic, payload in events] == [
        ("material.offers_changed", str(material.id), "offer.created"),
        ("material.offers_changed", str(material.id), "offer.updated")]
