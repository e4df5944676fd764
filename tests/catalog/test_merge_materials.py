"""Merging materials: references move, the retired code redirects for ever, only owners merge, races are safe."""

import asyncio
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from catalog.governance import evidence
from catalog.governance.merge import merge_materials, resolve_material_code
from catalog.governance.models import MaterialDuplicateCandidate
from catalog.models import Material, MaterialVersion, PriceListLine, SupplierOffer
from ledger.models import EvidenceRecord
from ledger.service import record_evidence
from tests.catalog_governance_factories import make_material, make_offer, make_price_list
from tests.factories import Member, make_member
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant, make_sessionmaker
from tradeloom.errors import TradeloomError
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

URL = "/api/v1/catalog/merges"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def ledger_wired() -> Iterator[None]:
    evidence.use_recorder(record_evidence)
    yield


def candidate(first: Material, second: Material, *, score: str = "91.0") -> MaterialDuplicateCandidate:
    low, high = sorted((first, second), key=lambda m: m.id)
    return MaterialDuplicateCandidate(first_material_id=low.id, second_material_id=high.id,
                                      first_owner_org_id=low.owner_org_id, second_owner_org_id=high.owner_org_id,
                                      class_code=low.class_code, score=score, parts={}, status="open")


class TestMergeService:
    async def test_everything_that_pointed_at_the_retired_material_moves_to_the_survivor(
        self, session: AsyncSession,
    ) -> None:
        # given
        owner = await make_member(session, roles=(Role.BUYER,))
        buyer = await make_member(session)
        survivor = await make_material(session, owner_org_id=owner.org.id)
        retired = await make_material(session, owner_org_id=owner.org.id, name_en="SS hex bolt M8x30")
        third = await make_material(session, owner_org_id=owner.org.id, name_en="Hex bolt M8 x 30")
        both = await make_member(session, kind=OrgKind.SUPPLIER)
        only = await make_member(session, kind=OrgKind.SUPPLIER)
        await make_offer(session, supplier_org_id=both.org.id, material_id=survivor.id, part_number="B-SURV")
        await make_offer(session, supplier_org_id=both.org.id, material_id=retired.id, part_number="B-RET")
        await make_offer(session, supplier_org_id=only.org.id, material_id=retired.id, part_number="O-RET")
        await make_price_list(session, supplier_org_id=both.org.id, buyer_org_id=buyer.org.id,
                              lines=[(survivor.id, "0", "1.10"), (retired.id, "0", "1.05"),
                                     (retired.id, "500", "0.95")])
        session.add_all([candidate(survivor, retired), candidate(retired, third)])
        await session.flush()
        await apply_tenant(session, org_id=owner.org.id, user_id=owner.user.id)
        # when
        result = await merge_materials(session, actor=actor_of(owner), platform_admin=False,
                                       survivor_code=survivor.code, retired_code=retired.code)
        # then
        assert (result.offers_moved, result.price_list_lines_moved, result.price_list_lines_kept,
                result.candidates_moved) == (2, 1, 1, 1)
        assert result.same_supplier_offers == [{"supplier_org_id": str(both.org.id), "moved_part_number": "B-RET",
                                                "existing_part_number": "B-SURV"}]
        rows = await as_owner(session)
        materials = {m.code: m for m in rows(Material)}
        assert (materials[retired.code].status, materials[retired.code].merged_into_id) == ("retired", survivor.id)
        assert {o.supplier_part_number: o.material_id for o in rows(SupplierOffer)} == {
            "B-SURV": survivor.id, "B-RET": survivor.id, "O-RET": survivor.id}
        assert sorted((str(line.min_quantity), line.material_id == survivor.id) for line in rows(PriceListLine)) == [
            ("0.000000", False), ("0.000000", True), ("500.000000", True)]
        queue = {(c.first_material_id, c.second_material_id): c.status for c in rows(MaterialDuplicateCandidate)}
        assert queue == {tuple(sorted((survivor.id, retired.id))): "merged",
                         tuple(sorted((survivor.id, third.id))): "open"}
        history = [(v.material_id, v.version, v.change) for v in rows(MaterialVersion)
                   if v.change in ("merged", "retired:merged")]
        assert sorted(history) == sorted([(survivor.id, 2, "merged"), (retired.id, 2, "retired:merged")])
        event = next(e for e in rows(OutboxEvent) if e.topic == "material.merged")
        assert (event.payload["survivor_code"], event.payload["retired_code"]) == (survivor.code, retired.code)
        entry = next(e for e in rows(EvidenceRecord) if e.kind == "catalog.merge")
        assert (entry.subject, entry.org_id) == (f"material:{survivor.code}", owner.org.id)

    async def test_the_retired_code_redirects_and_is_never_reused(self, session: AsyncSession) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        survivor = await make_material(session, owner_org_id=owner.org.id)
        retired = await make_material(session, owner_org_id=owner.org.id, name_en="Bolt")
        await apply_tenant(session, org_id=owner.org.id, user_id=owner.user.id)
        await merge_materials(session, actor=actor_of(owner), platform_admin=False,
                              survivor_code=survivor.code, retired_code=retired.code)
        newer = await make_material(session, owner_org_id=owner.org.id, name_en="Another bolt")
        assert (await resolve_material_code(session, retired.code)).id == survivor.id
        assert newer.code not in (survivor.code, retired.code)

    @pytest.mark.parametrize(("survivor", "retired", "code"), [
        ({"status": "retired"}, {}, "catalog.material_retired"),
        ({}, {"class_code": "100102"}, "catalog.merge_class_mismatch"),
        ({}, {"base_unit": "KGM"}, "catalog.merge_unit_mismatch"),
    ], ids=["retired", "other-class", "other-unit"])
    async def test_only_live_materials_of_one_class_and_unit_merge(
        self, session: AsyncSession, survivor: dict[str, str], retired: dict[str, str], code: str,
    ) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        first = await make_material(session, owner_org_id=owner.org.id, **survivor)  # type: ignore[arg-type]
        second = await make_material(session, owner_org_id=owner.org.id, name_en="Bolt", **retired)  # type: ignore[arg-type]
        await apply_tenant(session, org_id=owner.org.id, user_id=owner.user.id)
        with pytest.raises(TradeloomError) as refused:
            await merge_materials(session, actor=actor_of(owner), platform_admin=False,
                                  survivor_code=first.code, retired_code=second.code)
        assert refused.value.code == code


def actor_of(member: Member) -> Actor:
    return Actor(org_id=member.org.id, user_id=member.user.id)


async def as_owner(session: AsyncSession) -> Callable[[type[T]], list[T]]:
    """Back to the database owner (no RLS), then every row of the tables a merge touches, read fresh."""
    await session.execute(text("RESET ROLE"))
    found: dict[type, list[Any]] = {}
    for model in (Material, SupplierOffer, PriceListLine, MaterialDuplicateCandidate, MaterialVersion, OutboxEvent,
                  EvidenceRecord):
        found[model] = list(await session.scalars(select(model).execution_options(populate_existing=True)))
    return lambda model: found[model]


class TestMergeApi:
    async def test_the_owner_merges_and_gets_the_report(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        survivor = await make_material(session, owner_org_id=owner.org.id)
        retired = await make_material(session, owner_org_id=owner.org.id, name_en="Bolt")
        response = await client.post(URL, headers=owner.headers | {"Idempotency-Key": "merge-0001"},
                                     json={"survivor_code": survivor.code, "retired_code": retired.code})
        assert (response.status_code, response.json()) == (200, {
            "survivor_code": survivor.code, "retired_code": retired.code, "offers_moved": 0,
            "price_list_lines_moved": 0, "price_list_lines_kept": 0, "candidates_moved": 0,
            "same_supplier_offers": []})

    async def test_another_organization_may_not_merge(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        stranger = await make_member(session, roles=(Role.BUYER,))
        survivor = await make_material(session, owner_org_id=owner.org.id)
        theirs = await make_material(session, owner_org_id=stranger.org.id, name_en="Bolt")
        mine_only = {"survivor_code": survivor.code, "retired_code": theirs.code}
        for member in (stranger, owner):
            response = await client.post(URL, headers=member.headers, json=mine_only)
            assert (response.status_code, response.json()["code"]) == (403, "catalog.merge_forbidden")
        assert (await session.get(Material, theirs.id, populate_existing=True)).status == "active"  # type: ignore[union-attr]

    async def test_a_platform_admin_merges_across_owners(self, client: AsyncClient, session: AsyncSession) -> None:
        admin = await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR)
        first = await make_material(session, owner_org_id=(await make_member(session)).org.id)
        second = await make_material(session, owner_org_id=(await make_member(session)).org.id, name_en="Bolt")
        response = await client.post(URL, headers=admin.headers,
                                     json={"survivor_code": first.code, "retired_code": second.code})
        assert response.status_code == 200
        assert (await session.get(Material, second.id, populate_existing=True)).merged_into_id == first.id  # type: ignore[union-attr]

    async def test_bad_codes_are_422_and_unknown_codes_404(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        material = await make_material(session, owner_org_id=owner.org.id)
        malformed = await client.post(URL, headers=owner.headers, json={"survivor_code": "x", "retired_code": "y"})
        unknown = await client.post(URL, headers=owner.headers,
                                    json={"survivor_code": material.code, "retired_code": "100101-999999N"})
        itself = await client.post(URL, headers=owner.headers,
                                   json={"survivor_code": material.code, "retired_code": material.code})
        assert [(r.status_code, r.json()["code"]) for r in (malformed, unknown, itself)] == [
            (422, "validation_failed"), (404, "catalog.material_not_found"), (422, "catalog.merge_same_material")]


class TestConcurrentMerges:
    async def test_merging_one_pair_both_ways_at_once_merges_it_once(
        self, committed_client: AsyncClient, engine: AsyncEngine,
    ) -> None:
        # given: committed data, so that the two requests run in two real transactions
        async with make_sessionmaker(engine)() as setup, setup.begin():
            owner = await make_member(setup, roles=(Role.BUYER,))
            first = await make_material(setup, owner_org_id=owner.org.id)
            second = await make_material(setup, owner_org_id=owner.org.id, name_en="Bolt")
        # when
        responses = await asyncio.gather(*(
            committed_client.post(URL, headers=owner.headers, json={"survivor_code": a, "retired_code": b})
            for a, b in ((first.code, second.code), (second.code, first.code)) * 3
        ))
        # then
        assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409, 409]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"catalog.material_retired"}
        async with make_sessionmaker(engine)() as check:
            statuses = dict((await check.execute(select(Material.code, Material.status))).all())
            merges = await check.scalar(select(func.count()).select_from(EvidenceRecord))
        assert sorted(statuses.values()) == ["active", "retired"]
        assert merges == 1
