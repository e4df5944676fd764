"""The import API: 202 with the job URL, hostile files refused with problem+json, tenants kept apart."""

import io

from httpx import AsyncClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.imports.models import CatalogImport
from catalog.imports.service import run_import
from tests.factories import make_member
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

URL = "/api/v1/catalog/imports"
HEADER = "class_code,name_zh,name_en,base_unit,attr:thread,attr:length_mm,attr:material\n"
ROW = "100101,六角螺栓,Hex bolt,H87,M8,30,SS304\n"


def upload(body: bytes, *, filename: str = "materials.csv", kind: str = "materials", dry_run: bool = False
           ) -> dict[str, object]:
    return {"files": {"file": (filename, body, "application/octet-stream")},
            "data": {"kind": kind, "dry_run": str(dry_run).lower()}}


class TestUpload:
    async def test_a_readable_file_is_queued_with_its_url(self, client: AsyncClient, session: AsyncSession) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        # when
        files = upload((HEADER + ROW * 2).encode())
        response = await client.post(URL, headers=member.headers, **files)  # type: ignore[arg-type]
        # then
        body = response.json()
        assert response.status_code == 202
        assert response.headers["location"] == body["url"] == f"{URL}/{body['id']}"
        assert (body["status"], body["total_rows"], body["processed_rows"], body["encoding"]) == (
            "queued", 2, 0, "utf-8")
        events = await session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "catalog.import_requested"))
        event = events.one()
        assert event.payload == {"import_id": body["id"]}

    async def test_progress_and_report_are_visible_after_the_job_ran(
        self, client: AsyncClient, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        # given
        member = await make_member(session, roles=(Role.BUYER,))
        bad = "100101,=HYPERLINK(\"x\"),Hex bolt,H87,M8,=1+29,SS304\n"
        queued = (await client.post(URL, headers=member.headers, **upload((HEADER + ROW + bad).encode()))).json()  # type: ignore[arg-type]
        # when
        await run_import(sessionmaker, org_id=member.org.id, import_id=queued["id"])
        shown = await client.get(queued["url"], headers=member.headers)
        report = await client.get(f"{queued['url']}/report.csv", headers=member.headers)
        # then
        shown_body = shown.json()
        assert (shown_body["status"], shown_body["processed_rows"], shown_body["error_count"]) == ("rejected", 2, 1)
        assert report.text == ("\ufeffrow,column,code,message\r\n"
                               "3,attr:length_mm,wrong_type,length_mm: '=1+29' is not a decimal number\r\n")

    async def test_missing_columns_are_a_422_listing_them(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        response = await client.post(URL, headers=member.headers, **upload(b"class_code,name\n100101,x\n"))  # type: ignore[arg-type]
        assert (response.status_code, response.headers["content-type"]) == (422, "application/problem+json")
        assert [(e["column"], e["code"]) for e in response.json()["errors"]] == [
            ("name_zh", "missing_column"), ("name_en", "missing_column"), ("base_unit", "missing_column"),
            ("name", "unknown_column")]

    async def test_a_hundred_thousand_row_file_is_over_the_size_limit(
        self, client: AsyncClient, session: AsyncSession,
    ) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        files = upload((HEADER + ROW * 100_000).encode())
        response = await client.post(URL, headers=member.headers, **files)  # type: ignore[arg-type]
        assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
        assert await session.scalar(select(func.count()).select_from(CatalogImport)) == 0

    async def test_hostile_files_are_422_never_500(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        workbook = Workbook()
        buffer = io.BytesIO()
        workbook.save(buffer)
        cases = {
            "broken.xlsx": (buffer.getvalue()[:200], "catalog.import_malformed"),
            "latin1.csv": ("class_code,name_zh,name_en,base_unit\n100101,Écrou,Écrou,H87\n".encode("latin-1"),
                           "catalog.import_encoding"),
            "empty.xlsx": (buffer.getvalue(), "catalog.import_empty"),
            "materials.xls": (b"\xd0\xcf\x11\xe0", "catalog.import_format"),
        }
        for filename, (content, code) in cases.items():
            response = await client.post(URL, headers=member.headers, **upload(content, filename=filename))  # type: ignore[arg-type]
            assert (filename, response.status_code, response.json()["code"]) == (filename, 422, code)

    async def test_an_idempotency_key_replays_the_first_answer(
        self, client: AsyncClient, session: AsyncSession,
    ) -> None:
        # given: a retry sends the very same bytes (same multipart boundary)
        member = await make_member(session, roles=(Role.BUYER,))
        boundary = "tradeloom-test-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nmaterials\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n{HEADER}{ROW}\r\n--{boundary}--\r\n").encode()
        headers = member.headers | {"Idempotency-Key": "import-2026-11-25-a",
                                    "Content-Type": f"multipart/form-data; boundary={boundary}"}
        # when
        first = await client.post(URL, headers=headers, content=body)
        again = await client.post(URL, headers=headers, content=body)
        # then
        assert (first.status_code, again.status_code, again.json()["id"]) == (202, 202, first.json()["id"])
        assert again.headers["idempotent-replayed"] == "true"
        assert await session.scalar(select(func.count()).select_from(CatalogImport)) == 1

    async def test_a_form_with_two_files_or_many_fields_is_refused_with_or_without_a_key(
        self, client: AsyncClient, session: AsyncSession,
    ) -> None:
        # given: forms over the import's limits (one file, eight fields); the idempotency guard reads a keyed
        # form before the endpoint does
        member = await make_member(session, roles=(Role.BUYER,))
        file = ("m.csv", (HEADER + ROW).encode(), "text/csv")
        forms = {
            "two files": {"files": [("file", file), ("file", file)], "data": {"kind": "materials"}},
            "nine fields": {"files": {"file": file}, "data": {f"f{i}": "x" for i in range(8)} | {"kind": "materials"}},
        }
        for name, form in forms.items():
            for key in (None, f"import-limits-{name.replace(' ', '-')}"):
                # when
                headers = member.headers | ({"Idempotency-Key": key} if key else {})
                response = await client.post(URL, headers=headers, **form)  # type: ignore[arg-type]
                # then
                assert (name, key, response.status_code, response.json()["code"]) == (
                    name, key, 422, "catalog.import_form")
        assert await session.scalar(select(func.count()).select_from(CatalogImport)) == 0


class TestAccess:
    async def test_another_organization_cannot_see_an_import(self, client: AsyncClient, session: AsyncSession) -> None:
        member = await make_member(session, roles=(Role.BUYER,))
        stranger = await make_member(session, roles=(Role.BUYER,))
        queued = (await client.post(URL, headers=member.headers, **upload((HEADER + ROW).encode()))).json()  # type: ignore[arg-type]
        response = await client.get(queued["url"], headers=stranger.headers)
        assert (response.status_code, response.json()["code"]) == (404, "catalog.import_not_found")

    async def test_offers_need_the_offers_permission(self, client: AsyncClient, session: AsyncSession) -> None:
        buyer = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        body = b"supplier_part_number,material_code,currency,order_unit,price_tiers\n"
        response = await client.post(URL, headers=buyer.headers, **upload(body, kind="offers"))  # type: ignore[arg-type]
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
