"""The quality score: each part of the formula, stored by the job, and the organization's report."""

import datetime as dt
from dataclasses import replace

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.governance.quality import quality_report, score_materials
from catalog.governance.quality_scoring import QualityFacts, assess
from catalog.models import Material
from tests.catalog_governance_factories import make_material, make_offer
from tests.factories import make_member
from tradeloom.identity.roles import OrgKind, Role

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
COMPLETE = QualityFacts(class_code="100101", name_zh="不锈钢六角螺栓 M8x30", name_en="Stainless hex bolt M8x30",
                        base_unit="H87", gtin="4006381333931",
                        attributes={"thread": "M8", "length_mm": "30", "material": "SS304"},
                        has_live_offer=True, last_offer_change=NOW - dt.timedelta(days=10))


def reasons(facts: QualityFacts) -> tuple[int, list[tuple[str, float]]]:
    assessment = assess(facts, now=NOW)
    return assessment.score, [(reason.code, reason.points) for reason in assessment.reasons]


class TestFormula:
    def test_a_complete_valid_fresh_material_scores_100(self) -> None:
        assert reasons(COMPLETE) == (100, [])

    def test_completeness_and_validity(self) -> None:
        facts = _with(attributes={"thread": "M7", "length_mm": "30"})
        assert reasons(facts) == (74, [("missing_required", 13.3), ("invalid_attribute", 12.5)])

    def test_consistency(self) -> None:
        facts = _with(base_unit="PCS", gtin="4006381333932", name_zh="Hex bolt", name_en="六角螺栓")
        assert reasons(facts) == (80, [("unknown_unit", 5), ("bad_gtin", 5), ("name_zh_not_chinese", 5),
                                       ("name_en_not_english", 5)])
        assert reasons(_with(gtin=None)) == (98, [("no_gtin", 2)])

    def test_freshness(self) -> None:
        assert reasons(_with(has_live_offer=False, last_offer_change=NOW - dt.timedelta(days=181))) == (
            85, [("no_live_offer", 10), ("stale_prices", 5)])

    def test_an_unknown_class_loses_all_validity(self) -> None:
        assert reasons(_with(class_code="1001")) == (75, [("unknown_class", 25)])


def _with(**changes: object) -> QualityFacts:
    return replace(COMPLETE, **changes)  # type: ignore[arg-type]


class TestStoredScores:
    async def test_the_job_stores_scores_without_touching_versions(self, session: AsyncSession) -> None:
        # given
        owner = await make_member(session)
        supplier = await make_member(session, kind=OrgKind.SUPPLIER)
        fresh = await make_material(session, owner_org_id=owner.org.id, gtin="4006381333931")
        await make_offer(session, supplier_org_id=supplier.org.id, material_id=fresh.id, part_number="F-1",
                         valid_from=dt.date(2026, 11, 1))
        lacking = await make_material(session, owner_org_id=owner.org.id, name_en="Bolt",
                                      attributes={"thread": "M8"})
        # when
        scored = await score_materials(session, now=dt.datetime.now(dt.UTC))
        # then
        stored = {m.code: (m.quality_score, m.version) for m in await session.scalars(
            select(Material).execution_options(populate_existing=True))}
        assert scored == 2
        assert stored == {fresh.code: (100, 1), lacking.code: (56, 1)}
        report = await quality_report(session, owner_org_id=owner.org.id, now=dt.datetime.now(dt.UTC), worst=1)
        assert (report.scored, report.unscored, report.average) == (2, 0, 78.0)
        assert [bucket["count"] for bucket in report.buckets] == [0, 0, 1, 0, 1]
        assert report.worst == [{
            "code": lacking.code, "name_zh": "不锈钢六角螺栓 M8x30", "name_en": "Bolt", "score": 56, "reasons": [
                {"code": "missing_required", "points": 26.7,
                 "message": "required attributes missing: length_mm, material"},
                {"code": "no_live_offer", "points": 10, "message": "no active offer is valid today"},
                {"code": "stale_prices", "points": 5, "message": "no offer created or changed in the last 180 days"},
                {"code": "no_gtin", "points": 2, "message": "no GTIN"}]}]


class TestReportApi:
    async def test_mine_only_and_all_for_platform_admins(self, client: AsyncClient, session: AsyncSession) -> None:
        owner, other = await make_member(session), await make_member(session)
        admin = await make_member(session, roles=(Role.PLATFORM_ADMIN,), kind=OrgKind.PLATFORM_OPERATOR)
        await make_material(session, owner_org_id=owner.org.id, gtin="4006381333931")
        await make_material(session, owner_org_id=other.org.id, name_en="Bolt")
        await score_materials(session, now=dt.datetime.now(dt.UTC))
        mine = await client.get("/api/v1/catalog/quality", params={"owner": "mine"}, headers=owner.headers)
        assert (mine.status_code, mine.json()["owner"], mine.json()["scored"], mine.json()["average"]) == (
            200, "mine", 1, 85.0)
        refused = await client.get("/api/v1/catalog/quality", params={"owner": "all"}, headers=owner.headers)
        everything = await client.get("/api/v1/catalog/quality", params={"owner": "all"}, headers=admin.headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "catalog.quality_all_forbidden")
        assert (everything.status_code, everything.json()["scored"]) == (200, 2)
