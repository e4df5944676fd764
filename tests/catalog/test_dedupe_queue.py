"""Duplicate detection: pairs found within a class (numbers in template units), the queue, and decisions."""

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.governance.dedupe import scan_for_duplicates
from catalog.governance.models import MaterialDuplicateCandidate
from catalog.models import Material
from tests.catalog_governance_factories import make_material
from tests.factories import Member, make_member
from tradeloom.identity.roles import OrgKind, Role

URL = "/api/v1/catalog/duplicates"


async def bolts(session: AsyncSession, first_owner: Member, second_owner: Member) -> tuple[Material, ...]:
    """Two records of one bolt (30 mm written as "30" and "30.0"), a 35 mm bolt, and a flange bolt."""
    return (
        await make_material(session, owner_org_id=first_owner.org.id),
        await make_material(session, owner_org_id=second_owner.org.id, name_zh="不锈钢六角螺栓M8*30",
                            name_en="Stainless steel hex bolt M8 x 30",
                            attributes={"thread": "M8", "length_mm": "30.0", "material": "SS304"}),
        await make_material(session, owner_org_id=first_owner.org.id, name_zh="不锈钢六角螺栓 M8x35",
                            name_en="Stainless hex bolt M8x35",
                            attributes={"thread": "M8", "length_mm": "35", "material": "SS304"}),
        await make_material(session, owner_org_id=first_owner.org.id, class_code="100102"),
    )


async def queue_of(session: AsyncSession) -> list[MaterialDuplicateCandidate]:
    return list(await session.scalars(select(MaterialDuplicateCandidate).order_by(MaterialDuplicateCandidate.score)
                                      .execution_options(populate_existing=True)))


class TestScan:
    async def test_finds_the_same_bolt_twice_but_not_a_longer_one_nor_another_class(
        self, session: AsyncSession,
    ) -> None:
        # given
        first_owner, second_owner = await make_member(session), await make_member(session)
        same, twin, longer, _flange = await bolts(session, first_owner, second_owner)
        # when
        summary = await scan_for_duplicates(session)
        # then
        assert (summary.classes, summary.materials, summary.pairs) == (2, 4, 1)
        [pair] = await queue_of(session)
        low, high = sorted((same, twin), key=lambda m: m.id)
        assert (pair.first_material_id, pair.second_material_id, pair.first_owner_org_id, pair.second_owner_org_id,
                pair.score, pair.status) == (low.id, high.id, low.owner_org_id, high.owner_org_id, Decimal("100.0"),
                                             "open")
        assert pair.parts == {"names": 100.0, "attributes": 100.0, "base_unit": 100.0, "conflicts": []}
        assert longer.id not in (pair.first_material_id, pair.second_material_id)

    async def test_a_lower_threshold_shows_the_conflicting_attribute(self, session: AsyncSession) -> None:
        owner = await make_member(session)
        await bolts(session, owner, owner)
        await scan_for_duplicates(session, threshold=75.0)
        assert [(str(c.score), c.parts["conflicts"]) for c in await queue_of(session)] == [
            ("80.6", ["length_mm"]), ("80.6", ["length_mm"]), ("100.0", [])]

    async def test_a_rescan_keeps_decisions_and_skips_retired_materials(self, session: AsyncSession) -> None:
        owner = await make_member(session)
        _same, twin, *_ = await bolts(session, owner, owner)
        await scan_for_duplicates(session)
        await session.execute(update(MaterialDuplicateCandidate).values(status="dismissed", score=Decimal("1.0")))
        await scan_for_duplicates(session)
        assert [(c.status, str(c.score)) for c in await queue_of(session)] == [("dismissed", "1.0")]
        await session.execute(update(Material).where(Material.id == twin.id).values(status="retired"))
        assert (await scan_for_duplicates(session)).materials == 3


class TestQueueApi:
    async def test_every_member_reads_the_queue_with_both_materials(
        self, client: AsyncClient, session: AsyncSession,
    ) -> None:
        owner, other, reader = await make_member(session), await make_member(session), await make_member(session)
        same, twin, *_ = await bolts(session, owner, other)
        await scan_for_duplicates(session)
        response = await client.get(URL, headers=reader.headers)
        [item] = response.json()["items"]
        assert (response.status_code, item["score"], {item["first"]["code"], item["second"]["code"]}) == (
            200, "100.0", {same.code, twin.code})
        mine = await client.get(URL, params={"owner": "mine"}, headers=reader.headers)
        assert mine.json() == {"items": [], "next_cursor": None}

    async def test_only_an_owner_dismisses_and_only_once(self, client: AsyncClient, session: AsyncSession) -> None:
        owner = await make_member(session, roles=(Role.BUYER,))
        other = await make_member(session, roles=(Role.BUYER,))
        stranger = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        await bolts(session, owner, other)
        await scan_for_duplicates(session)
        [pair] = await queue_of(session)
        dismiss = f"{URL}/{pair.id}/dismiss"
        refused = await client.post(dismiss, headers=stranger.headers)
        accepted = await client.post(dismiss, headers=other.headers)
        again = await client.post(dismiss, headers=owner.headers)
        assert [(r.status_code, r.json().get("code", r.json().get("status"))) for r in (refused, accepted, again)] == [
            (403, "catalog.candidate_forbidden"), (200, "dismissed"), (409, "catalog.candidate_decided")]
        assert accepted.json()["reviewed_by_org_id"] == str(other.org.id)
        listed = await client.get(URL, params={"status": "dismissed"}, headers=stranger.headers)
        assert [item["id"] for item in listed.json()["items"]] == [str(pair.id)]

    async def test_scans_are_for_platform_operators(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session)
        admin = await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR)
        refused = await client.post(f"{URL}/scan", headers=member.headers)
        queued = await client.post(f"{URL}/scan", headers=admin.headers)
        assert [(r.status_code) for r in (refused, queued)] == [403, 202]
