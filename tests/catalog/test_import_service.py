"""Import jobs against the database: all rows or none, dry runs, stored-data checks, redelivery."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.imports import apply, service
from catalog.imports.models import CatalogImport
from catalog.imports.reading import FileFormat
from catalog.imports.rows import ImportKind
from catalog.models import Material, MaterialVersion, OfferPriceTier, PriceList, PriceListLine, SupplierOffer
from tests.catalog_governance_factories import make_material
from tests.factories import Member, make_member
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

TODAY = dt.date(2026, 11, 25)
MATERIALS_HEADER = "class_code,name_zh,name_en,base_unit,gtin,attr:thread,attr:length_mm,attr:material\n"


def bolt_rows(count: int, *, start: int = 30) -> str:
    return "".join(f"100101,六角螺栓 M8x{start + i},Hex bolt M8x{start + i},H87,,M8,{start + i},SS304\n"
                   for i in range(count))


async def queue(
    session: AsyncSession, member: Member, kind: ImportKind, body: str, *, dry_run: bool = False,
) -> uuid.UUID:
    await apply_tenant(session, org_id=member.org.id, user_id=member.user.id)
    record = await service.request_import(
        session, actor=Actor(org_id=member.org.id, user_id=member.user.id), kind=kind, file_format=FileFormat.CSV,
        filename="upload.csv", content=body.encode(), dry_run=dry_run)
    await session.flush()
    return record.id


async def run(sessionmaker: async_sessionmaker[AsyncSession], member: Member, import_id: uuid.UUID) -> str | None:
    return await service.run_import(sessionmaker, org_id=member.org.id, import_id=import_id, today=TODAY)


async def reload(session: AsyncSession, import_id: uuid.UUID) -> CatalogImport:
    return (await session.scalars(select(CatalogImport).where(CatalogImport.id == import_id)
                                  .execution_options(populate_existing=True))).one()


async def count(session: AsyncSession, model: type, *where: object) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


class TestMaterialsImport:
    async def test_every_row_becomes_a_draft_material_with_history(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        import_id = await queue(session, member, ImportKind.MATERIALS, MATERIALS_HEADER + bolt_rows(3))
        # when
        status = await run(sessionmaker, member, import_id)
        # then
        record = await reload(session, import_id)
        codes = [entry["code"] for entry in record.report["created"]]
        assert (status, record.status, record.total_rows, record.processed_rows, record.created_count) == (
            "succeeded", "succeeded", 3, 3, 3)
        assert [entry["row"] for entry in record.report["created"]] == [2, 3, 4]
        stored = (await session.scalars(select(Material).where(Material.code.in_(codes)).order_by(Material.code))).all()
        assert [(m.name_en, m.status, m.attributes["length_mm"], m.owner_org_id) for m in stored] == [
            ("Hex bolt M8x30", "draft", "30", member.org.id), ("Hex bolt M8x31", "draft", "31", member.org.id),
            ("Hex bolt M8x32", "draft", "32", member.org.id)]
        assert await count(session, MaterialVersion, MaterialVersion.material_id.in_([m.id for m in stored])) == 3
        succeeded = select(OutboxEvent).where(OutboxEvent.topic == "catalog.import_succeeded")
        event = (await session.scalars(succeeded)).one()
        assert event.payload == {"import_id": str(import_id), "kind": "materials", "created": 3}

    async def test_a_file_whose_last_row_is_bad_stores_nothing(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        body = MATERIALS_HEADER + bolt_rows(4) + "100101,螺栓,Bolt,H87,,M8,30 KGM,SS304\n"
        import_id = await queue(session, member, ImportKind.MATERIALS, body)
        # when
        status = await run(sessionmaker, member, import_id)
        # then
        record = await reload(session, import_id)
        assert (status, record.error_count, record.created_count) == ("rejected", 1, 0)
        assert record.report["problems"] == [{"row": 6, "column": "attr:length_mm", "code": "unit_mismatch",
                                              "message": "length_mm: Cannot convert KGM (mass) to MMT (length)."}]
        assert await count(session, Material, Material.owner_org_id == member.org.id) == 0
        assert await count(session, OutboxEvent, OutboxEvent.topic == "catalog.import_succeeded") == 0

    async def test_a_failure_while_writing_rolls_back_the_rows_already_written(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # given: writing succeeds for every row, then the database refuses something
        member = await make_member(session, roles=(Role.BUYER,))
        import_id = await queue(session, member, ImportKind.MATERIALS, MATERIALS_HEADER + bolt_rows(5))
        real_write = apply.write_rows

        async def write_then_fail(*args: object, **kwargs: object) -> list[dict[str, object]]:
            await real_write(*args, **kwargs)  # type: ignore[arg-type]
            raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

        monkeypatch.setattr(apply, "write_rows", write_then_fail)
        # when
        status = await run(sessionmaker, member, import_id)
        # then
        record = await reload(session, import_id)
        assert (status, record.created_count, record.report["error"]) == (
            "failed", 0, "The import could not be written (IntegrityError); nothing was stored.")
        assert await count(session, Material, Material.owner_org_id == member.org.id) == 0

    async def test_a_dry_run_checks_everything_and_stores_nothing(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        import_id = await queue(session, member, ImportKind.MATERIALS, MATERIALS_HEADER + bolt_rows(2), dry_run=True)
        assert await run(sessionmaker, member, import_id) == "validated"
        record = await reload(session, import_id)
        assert (record.status, record.processed_rows, record.report["created"], record.report["problem_count"]) == (
            "validated", 2, [], 0)
        assert await count(session, Material, Material.owner_org_id == member.org.id) == 0

    async def test_a_gtin_already_registered_is_a_row_problem(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        await make_material(session, owner_org_id=member.org.id, gtin="4006381333931")
        body = MATERIALS_HEADER + "100101,螺栓,Bolt,H87,4006381333931,M8,30,SS304\n"
        import_id = await queue(session, member, ImportKind.MATERIALS, body)
        assert await run(sessionmaker, member, import_id) == "rejected"
        assert (await reload(session, import_id)).report["problems"] == [{
            "row": 2, "column": "gtin", "code": "gtin_taken",
            "message": "GTIN 4006381333931 is already registered to a material"}]

    async def test_a_redelivered_job_does_nothing(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        import_id = await queue(session, member, ImportKind.MATERIALS, MATERIALS_HEADER + bolt_rows(1))
        assert await run(sessionmaker, member, import_id) == "succeeded"
        assert await run(sessionmaker, member, import_id) is None
        assert await count(session, Material, Material.owner_org_id == member.org.id) == 1


OFFERS_HEADER = "supplier_part_number,material_code,currency,order_unit,price_tiers,moq,valid_to\n"


class TestOffersAndPriceLists:
    async def test_offers_are_stored_with_their_price_tiers(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        owner = await make_member(session)
        material = await make_material(session, owner_org_id=owner.org.id)
        supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        body = OFFERS_HEADER + f"SP-8-30,{material.code},CNY,H87,1:0.85; 1000:0.72,100,2027-06-30\n"
        import_id = await queue(session, supplier, ImportKind.OFFERS, body)
        # when
        assert await run(sessionmaker, supplier, import_id) == "succeeded"
        # then
        offer = (await session.scalars(select(SupplierOffer).where(SupplierOffer.org_id == supplier.org.id))).one()
        assert (offer.material_id, offer.moq, offer.valid_from, offer.valid_to) == (
            material.id, Decimal(100), TODAY, dt.date(2027, 6, 30))
        tiers = (await session.execute(select(OfferPriceTier.min_quantity, OfferPriceTier.unit_price)
                                       .where(OfferPriceTier.offer_id == offer.id)
                                       .order_by(OfferPriceTier.min_quantity))).all()
        assert tiers == [(Decimal(1), Decimal("0.85")), (Decimal(1000), Decimal("0.72"))]

    async def test_taken_part_numbers_unknown_and_merged_codes_are_row_problems(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        owner = await make_member(session)
        survivor = await make_material(session, owner_org_id=owner.org.id)
        retired = await make_material(session, owner_org_id=owner.org.id, name_en="Bolt", status="retired")
        await session.execute(text("UPDATE materials SET merged_into_id = :s WHERE id = :r"),
                              {"s": survivor.id, "r": retired.id})
        supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        first_body = OFFERS_HEADER + f"SP-1,{survivor.code},CNY,H87,1:1,,\n"
        first = await queue(session, supplier, ImportKind.OFFERS, first_body)
        assert await run(sessionmaker, supplier, first) == "succeeded"
        body = OFFERS_HEADER + (f"SP-1,{survivor.code},CNY,H87,1:1,,\n"
                                f"SP-2,{retired.code},CNY,H87,1:1,,\n"
                                "SP-3,100101-999999N,CNY,H87,1:1,,\n")
        second = await queue(session, supplier, ImportKind.OFFERS, body)
        assert await run(sessionmaker, supplier, second) == "rejected"
        found = [(p["row"], p["code"], p["message"]) for p in (await reload(session, second)).report["problems"]]
        assert found == [
            (2, "part_number_taken", "you already have an offer with part number SP-1"),
            (3, "material_merged", f"{retired.code} was merged into {survivor.code}; use {survivor.code}"),
            (4, "unknown_material", "no material has the code 100101-999999N")]

    async def test_a_price_list_file_makes_one_list_per_name(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        owner = await make_member(session)
        material = await make_material(session, owner_org_id=owner.org.id)
        buyer = await make_member(session)
        supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        body = ("price_list_name,buyer_uscc,currency,valid_from,material_code,unit_price,min_quantity\n"
                f"2027 框架价,{buyer.org.uscc},CNY,2027-01-01,{material.code},0.80,\n"
                f"2027 框架价,{buyer.org.uscc},CNY,2027-01-01,{material.code},0.70,1000\n"
                f"2027 框架价,91310000XXXXXXXXX1,CNY,2027-01-01,{material.code},0.70,5000\n")
        rejected = await queue(session, supplier, ImportKind.PRICE_LISTS, body)
        assert await run(sessionmaker, supplier, rejected) == "rejected"
        assert [(p["row"], p["column"], p["code"]) for p in (await reload(session, rejected)).report["problems"]] == [
            (4, "buyer_uscc", "inconsistent_price_list"), (4, "buyer_uscc", "unknown_buyer")]
        accepted = await queue(session, supplier, ImportKind.PRICE_LISTS, body.rsplit("\n", 2)[0] + "\n")
        assert await run(sessionmaker, supplier, accepted) == "succeeded"
        price_list = (await session.scalars(select(PriceList).where(PriceList.org_id == supplier.org.id))).one()
        assert (price_list.name, price_list.buyer_org_id, price_list.currency) == ("2027 框架价", buyer.org.id, "CNY")
        assert await count(session, PriceListLine, PriceListLine.price_list_id == price_list.id) == 2
