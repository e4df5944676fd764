"""Material master services: unified codes, attribute templates, units, GTIN, history, lifecycle, merges."""

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.codes import check_material_code, material_code
from catalog.models import Material, MaterialVersion
from catalog.schemas.materials import MaterialCreate, MaterialStatus, MaterialUpdate
from catalog.service import lifecycle, materials
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner, bolt_body, make_material, owner_actor
from tradeloom.audit import AuditEntry
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent


@pytest.fixture
async def owner(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)


async def _create(session: AsyncSession, owner: Member, **overrides: object) -> Material:
    await act_as(session, owner)
    return await materials.create_material(session, actor=owner_actor(owner),
                                           fields=MaterialCreate.model_validate(bolt_body(**overrides)))


class TestCreateMaterial:
    async def test_allocates_the_next_code_of_the_class_and_records_everything(
        self, session: AsyncSession, owner: Member
    ) -> None:
        # given two materials already in the class
        first = await _create(session, owner)
        # when another is created
        second = await _create(session, owner, attributes={"thread": "M10", "length_mm": "50", "material": "SS316"})
        # then it gets the next sequence, with a valid check character
        assert first.code == material_code("100101", 1)
        assert second.code == material_code("100101", 2)
        assert check_material_code(second.code) is None
        assert (second.status, second.version, second.owner_org_id) == ("draft", 1, owner.org.id)
        assert second.attributes == {"thread": "M10", "length_mm": "50", "material": "SS316"}
        assert second.pack_sizes == {"BX": "100"}
        version = await session.scalar(select(MaterialVersion).where(MaterialVersion.material_id == second.id))
        assert version is not None
        assert (version.version, version.change, version.snapshot["code"]) == (1, "created", second.code)
        events = (await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "material.created"))).all()
        assert [event.payload for event in events][-1] == {
            "material_id": str(second.id), "code": second.code, "version": 1,
        }
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.object_id == str(second.id)))
        assert audit is not None and audit.action == "material.created"

    async def test_numbers_in_another_unit_are_stored_exactly_in_the_template_unit(
        self, session: AsyncSession, owner: Member
    ) -> None:
        material = await _create(session, owner, attributes={
            "thread": "M8", "length_mm": {"value": "2", "unit": "INH"}, "material": "SS304",
        })
        assert material.attributes["length_mm"] == "50.8"

    @pytest.mark.parametrize(("attributes", "key", "problem"), [
        ({"thread": "M8", "length_mm": 40.0, "material": "SS304"}, "length_mm", "wrong_type"),
        ({"thread": "M7", "length_mm": "40", "material": "SS304"}, "thread", "unknown_value"),
        ({"thread": "M8", "length_mm": "4000", "material": "SS304"}, "length_mm", "out_of_range"),
        ({"thread": "M8", "material": "SS304"}, "length_mm", "missing_required"),
        ({"thread": "M8", "length_mm": "40", "material": "SS304", "colour": "red"}, "colour", "unknown_attribute"),
        ({"thread": "M8", "length_mm": {"value": "4", "unit": "KGM"}, "material": "SS304"}, "length_mm",
         "unit_mismatch"),
    ])
    async def test_attributes_that_break_the_template_are_422_naming_the_attribute(
        self, session: AsyncSession, owner: Member, attributes: dict[str, object], key: str, problem: str
    ) -> None:
        with pytest.raises(Invalid) as refused:
            await _create(session, owner, attributes=attributes)
        assert refused.value.code == "catalog.invalid_attributes"
        assert key in refused.value.message
        assert [(e["pointer"], e["code"]) for e in refused.value.errors] == [(f"/attributes/{key}", problem)]

    @pytest.mark.parametrize(("overrides", "code"), [
        ({"class_code": "999999"}, "catalog.unknown_class"),
        ({"class_code": "1001"}, "catalog.class_not_leaf"),
        ({"gtin": "6901234567891"}, "catalog.invalid_gtin"),
        ({"gtin": "69012345678９2"}, "catalog.invalid_gtin"),
        ({"base_unit": "XYZ"}, "catalog.unknown_unit"),
        ({"base_unit": "BX"}, "catalog.base_unit_is_packaging"),
        ({"pack_sizes": {"KGM": "25"}}, "catalog.pack_size_fixed_unit"),
    ])
    async def test_bad_master_data_is_refused_with_a_stable_code(
        self, session: AsyncSession, owner: Member, overrides: dict[str, object], code: str
    ) -> None:
        with pytest.raises(Invalid) as refused:
            await _create(session, owner, **overrides)
        assert refused.value.code == code

    async def test_a_gtin_identifies_one_material_only(self, session: AsyncSession, owner: Member) -> None:
        await _create(session, owner, gtin="6901234567892")
        with pytest.raises(Conflict) as taken:
            await _create(session, owner, gtin="6901234567892")
        assert taken.value.code == "catalog.gtin_taken"


class TestUpdateMaterial:
    async def test_each_change_is_a_new_version_with_a_snapshot(self, session: AsyncSession, owner: Member) -> None:
        material = await _create(session, owner)
        updated = await materials.update_material(
            session, actor=owner_actor(owner), material_id=material.id, expected_version=1,
            changes=MaterialUpdate(name_en="Hex bolt M8x40 A2", attributes={"thread": "M8", "length_mm": "45",
                                                                             "material": "SS304"}),
        )
        assert (updated.version, updated.attributes["length_mm"]) == (2, "45")
        history = await materials.material_history(session, material_id=material.id)
        assert [(v.version, v.change, v.snapshot["name_en"]) for v in history] == [
            (1, "created", "Hex head bolt M8×40 SS304"), (2, "updated", "Hex bolt M8x40 A2"),
        ]

    async def test_a_stale_version_is_412(self, session: AsyncSession, owner: Member) -> None:
        material = await _create(session, owner)
        await materials.update_material(session, actor=owner_actor(owner), material_id=material.id,
                                        expected_version=1, changes=MaterialUpdate(name_en="first"))
        with pytest.raises(PreconditionFailed):
            await materials.update_material(session, actor=owner_actor(owner), material_id=material.id,
                                            expected_version=1, changes=MaterialUpdate(name_en="second"))

    async def test_another_organization_cannot_change_it(self, session: AsyncSession, owner: Member) -> None:
        stranger = await make_member(session, roles=(Role.BUYER,))
        material = await _create(session, owner)
        await act_as(session, stranger)
        with pytest.raises(Forbidden):
            await materials.update_material(session, actor=owner_actor(stranger), material_id=material.id,
                                            expected_version=1, changes=MaterialUpdate(name_en="mine now"))

    async def test_the_base_unit_is_fixed_once_active(self, session: AsyncSession, owner: Member) -> None:
        material = await make_material(session, owner)
        with pytest.raises(Conflict) as locked:
            await materials.update_material(session, actor=owner_actor(owner), material_id=material.id,
                                            expected_version=material.version,
                                            changes=MaterialUpdate(base_unit="C62"))
        assert locked.value.code == "catalog.base_unit_locked"


class TestLifecycle:
    async def test_draft_active_blocked_active_retired(self, session: AsyncSession, owner: Member) -> None:
        material = await _create(session, owner)
        for status in ("active", "blocked", "active", "retired"):
            material = await lifecycle.change_status(
                session, actor=owner_actor(owner), material_id=material.id, expected_version=material.version,
                status=MaterialStatus(status),
            )
        assert (material.status, material.version) == ("retired", 5)
        topics = (await session.scalars(select(OutboxEvent.topic).where(
            OutboxEvent.payload["material_id"].astext == str(material.id)).order_by(OutboxEvent.id))).all()
        assert topics == ["material.created"] + ["material.status_changed"] * 4

    @pytest.mark.parametrize(("path", "refused"), [((), "blocked"), (("active", "retired"), "active"),
                                                   (("active", "retired"), "draft")])
    async def test_refused_transitions(
        self, session: AsyncSession, owner: Member, path: tuple[str, ...], refused: str
    ) -> None:
        material = await _create(session, owner)
        for status in path:
            await lifecycle.change_status(session, actor=owner_actor(owner), material_id=material.id,
                                          expected_version=material.version, status=MaterialStatus(status))
        with pytest.raises(Conflict) as problem:
            await lifecycle.change_status(session, actor=owner_actor(owner), material_id=material.id,
                                          expected_version=material.version, status=MaterialStatus(refused))
        assert problem.value.code == "catalog.status_transition_refused"

    async def test_a_retired_code_is_never_given_again(self, session: AsyncSession, owner: Member) -> None:
        retired = await make_material(session, owner, status=MaterialStatus.RETIRED)
        fresh = await _create(session, owner)
        assert retired.code == material_code("100101", 1)
        assert fresh.code == material_code("100101", 2)


class TestFindByCode:
    async def test_a_merged_code_answers_with_the_surviving_material(self, session: AsyncSession, owner: Member
                                                                     ) -> None:
        # given a duplicate merged into the survivor (as the governance merge leaves it)
        survivor = await make_material(session, owner)
        duplicate = await make_material(session, owner, status=MaterialStatus.RETIRED,
                                        attributes={"thread": "M8", "length_mm": "40", "material": "SS316"})
        await as_owner(session)
        duplicate.merged_into_id = survivor.id
        await session.flush()
        # when the retired code is looked up
        await act_as(session, owner)
        lookup = await materials.find_material_by_code(session, code=duplicate.code)
        # then the survivor answers, and says it was redirected
        assert (lookup.material.id, lookup.redirected_from) == (survivor.id, duplicate.code)
        direct = await materials.find_material_by_code(session, code=survivor.code)
        assert (direct.material.id, direct.redirected_from) == (survivor.id, None)

    async def test_a_mistyped_code_is_422_and_an_unknown_one_404(self, session: AsyncSession, owner: Member) -> None:
        material = await make_material(session, owner)
        typo = material.code[:-1] + ("0" if material.code[-1] != "0" else "1")
        with pytest.raises(Invalid):
            await materials.find_material_by_code(session, code=typo)
        with pytest.raises(NotFound):
            await materials.find_material_by_code(session, code=material_code("100101", 999))
