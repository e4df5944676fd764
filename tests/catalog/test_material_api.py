"""``/api/v1/catalog`` classes, materials and attachments over HTTP: status codes, problem+json, ETags."""

import asyncio
import hashlib

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from catalog.codes import material_code
from catalog.models import Material
from catalog.storage import AttachmentStorage
from tests.catalog.conftest import make_s3_storage
from tests.factories import Member, make_member
from tests.materials_factories import as_owner, bolt_body
from tradeloom.db import make_sessionmaker
from tradeloom.identity.roles import OrgKind, Role

API = "/api/v1/catalog"


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)


@pytest.fixture
async def auditor(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.AUDITOR,))


class TestClasses:
    async def test_roots_and_a_leaf_with_path_and_template(self, client: AsyncClient, auditor: Member) -> None:
        roots = await client.get(f"{API}/classes", headers=auditor.headers)
        assert roots.status_code == 200
        assert roots.json()[0] == {"code": "10", "parent_code": None, "name_zh": "紧固件", "name_en": "Fasteners",
                                   "is_leaf": False}
        leaf = (await client.get(f"{API}/classes/100101", headers=auditor.headers)).json()
        assert [node["code"] for node in leaf["path"]] == ["10", "1001", "100101"]
        assert leaf["children"] == []
        assert [spec["key"] for spec in leaf["attribute_template"]][:3] == ["thread", "length_mm", "material"]
        group = (await client.get(f"{API}/classes/1001", headers=auditor.headers)).json()
        assert group["attribute_template"] == []
        assert [child["code"] for child in group["children"]][:2] == ["100101", "100102"]

    async def test_unknown_class_is_404(self, client: AsyncClient, auditor: Member) -> None:
        response = await client.get(f"{API}/classes/99", headers=auditor.headers)
        assert (response.status_code, response.json()["code"]) == (404, "catalog.class_not_found")


class TestCreateAndRead:
    async def test_created_with_code_etag_and_location(self, client: AsyncClient, supplier: Member) -> None:
        response = await client.post(f"{API}/materials", json=bolt_body(gtin="6901234567892"),
                                     headers=supplier.headers)
        assert response.status_code == 201
        body = response.json()
        assert body["code"] == material_code("100101", 1)
        assert (body["status"], body["gtin"], body["pack_sizes"]) == ("draft", "6901234567892", {"BX": "100"})
        assert response.headers["etag"] == '"1"'
        assert response.headers["location"] == f"{API}/materials/{body['id']}"
        read = await client.get(f"{API}/materials/{body['id']}", headers=supplier.headers)
        assert (read.json(), read.headers["etag"]) == (body, '"1"')

    async def test_a_bad_attribute_is_a_problem_naming_it(self, client: AsyncClient, supplier: Member) -> None:
        bad = bolt_body(attributes={"thread": "M8", "length_mm": "0.5", "material": "SS304"})
        response = await client.post(f"{API}/materials", json=bad, headers=supplier.headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["code"] == "catalog.invalid_attributes"
        assert problem["detail"] == "Attribute length_mm: 0.5 MMT is below 1 MMT"
        assert problem["errors"] == [{"pointer": "/attributes/length_mm", "code": "out_of_range",
                                      "detail": "length_mm: 0.5 MMT is below 1 MMT"}]

    async def test_a_float_pack_size_is_refused(self, client: AsyncClient, supplier: Member) -> None:
        response = await client.post(f"{API}/materials", json=bolt_body(pack_sizes={"BX": 100.5}),
                                     headers=supplier.headers)
        assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
        assert response.json()["errors"][0]["pointer"] == "/pack_sizes/BX"

    async def test_a_replayed_idempotency_key_creates_one_material(
        self, client: AsyncClient, supplier: Member, session: AsyncSession
    ) -> None:
        headers = supplier.headers | {"Idempotency-Key": "material-create-0001"}
        first = await client.post(f"{API}/materials", json=bolt_body(), headers=headers)
        replay = await client.post(f"{API}/materials", json=bolt_body(), headers=headers)
        assert first.status_code == replay.status_code == 201
        assert replay.json() == first.json()
        assert replay.headers["idempotent-replayed"] == "true"
        await as_owner(session)
        assert await session.scalar(select(func.count()).select_from(Material)) == 1

    async def test_readers_cannot_write(self, client: AsyncClient, auditor: Member) -> None:
        response = await client.post(f"{API}/materials", json=bolt_body(), headers=auditor.headers)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


class TestUpdateAndLifecycle:
    async def test_stale_if_match_is_412_and_changes_nothing(self, client: AsyncClient, supplier: Member) -> None:
        created = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{created['id']}"
        first = await client.patch(url, json={"name_en": "Hex bolt"}, headers=supplier.headers | {"If-Match": '"1"'})
        stale = await client.patch(url, json={"name_en": "Other"}, headers=supplier.headers | {"If-Match": '"1"'})
        assert (first.status_code, first.headers["etag"]) == (200, '"2"')
        assert (stale.status_code, stale.json()["code"], stale.headers["etag"]) == (412, "version_conflict", '"2"')
        assert (await client.get(url, headers=supplier.headers)).json()["name_en"] == "Hex bolt"
        emptied = await client.patch(url, json={"name_zh": None}, headers=supplier.headers | {"If-Match": '"2"'})
        assert (emptied.status_code, emptied.json()["code"]) == (422, "catalog.field_required")

    async def test_status_changes_and_history(self, client: AsyncClient, supplier: Member) -> None:
        created = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{created['id']}"
        active = await client.post(f"{url}/status", json={"status": "active"},
                                   headers=supplier.headers | {"If-Match": '"1"'})
        back = await client.post(f"{url}/status", json={"status": "draft"},
                                 headers=supplier.headers | {"If-Match": '"2"'})
        assert (active.status_code, active.json()["status"]) == (200, "active")
        assert (back.status_code, back.json()["code"]) == (409, "catalog.status_transition_refused")
        history = (await client.get(f"{url}/versions", headers=supplier.headers)).json()
        assert [(v["version"], v["change"]) for v in history] == [(1, "created"), (2, "status:active")]

    async def test_lookup_by_code(self, client: AsyncClient, supplier: Member) -> None:
        created = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        found = await client.get(f"{API}/materials/by-code/{created['code']}", headers=supplier.headers)
        assert found.json() == {"material": created, "requested_code": created["code"], "redirected_from": None}
        typo = await client.get(f"{API}/materials/by-code/100101-000001X", headers=supplier.headers)
        assert (typo.status_code, typo.json()["code"]) == (422, "catalog.invalid_material_code")


class TestConcurrentWriters:
    async def test_of_writers_holding_the_same_version_exactly_one_wins(
        self, committed_client: AsyncClient, engine: AsyncEngine
    ) -> None:
        # given a material committed for real (racing requests need their own transactions)
        async with make_sessionmaker(engine)() as setup, setup.begin():
            owner = await make_member(setup, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
        created = (await committed_client.post(f"{API}/materials", json=bolt_body(), headers=owner.headers)).json()
        url = f"{API}/materials/{created['id']}"
        # when four writers send their change against version 1 at once
        responses = await asyncio.gather(*(
            committed_client.patch(url, json={"name_en": f"Writer {n}"}, headers=owner.headers | {"If-Match": '"1"'})
            for n in range(4)
        ))
        # then one wins, the others get 412, and history has exactly one update
        assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]
        winner = next(r for r in responses if r.status_code == 200)
        history = (await committed_client.get(f"{url}/versions", headers=owner.headers)).json()
        assert [(v["version"], v["change"], v["snapshot"]["name_en"]) for v in history] == [
            (1, "created", "Hex head bolt M8×40 SS304"), (2, "updated", winner.json()["name_en"]),
        ]


class TestList:
    async def test_filters_and_cursor_pages(self, client: AsyncClient, supplier: Member, auditor: Member) -> None:
        nut = {"class_code": "100301", "name_zh": "六角螺母 M8", "name_en": "Hex nut M8",
               "attributes": {"thread": "M8", "material": "SS304"}, "base_unit": "H87"}
        for length in ("20", "30", "40"):
            attributes = {"thread": "M8", "length_mm": length, "material": "SS304"}
            await client.post(f"{API}/materials", json=bolt_body(attributes=attributes), headers=supplier.headers)
        await client.post(f"{API}/materials", json=nut, headers=supplier.headers)
        page = (await client.get(f"{API}/materials", params={"class_code": "1001", "limit": 2},
                                 headers=auditor.headers)).json()
        rest = (await client.get(f"{API}/materials", params={"class_code": "1001", "cursor": page["next_cursor"]},
                                 headers=auditor.headers)).json()
        assert [m["code"] for m in page["items"] + rest["items"]] == [material_code("100101", n) for n in (1, 2, 3)]
        assert rest["next_cursor"] is None
        nuts = (await client.get(f"{API}/materials", params={"class_code": "10", "status": "draft",
                                                             "owner_org_id": str(supplier.org.id)},
                                 headers=auditor.headers)).json()
        assert len(nuts["items"]) == 4
        bad = await client.get(f"{API}/materials", params={"cursor": "not-a-cursor"}, headers=auditor.headers)
        assert (bad.status_code, bad.json()["code"]) == (422, "cursor_invalid")


@pytest.fixture
def store_client(client: AsyncClient, attachment_store: AttachmentStorage) -> AsyncClient:
    """The API client with its app storing attachments in the test's store (data dir, then local S3)."""
    client._transport.app.state.attachment_storage = attachment_store  # type: ignore[attr-defined]
    return client


class TestAttachments:
    async def test_upload_records_the_sha256_and_downloads_the_same_bytes(
        self, store_client: AsyncClient, supplier: Member, auditor: Member
    ) -> None:
        client = store_client
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        content = b"%PDF-1.7\n% mill certificate EN 10204 3.1\n"
        uploaded = await client.post(
            f"{API}/materials/{material['id']}/attachments", headers=supplier.headers,
            files={"file": ("../../etc/3.1 cert.pdf", content, "application/pdf")}, data={"kind": "certificate"},
        )
        assert uploaded.status_code == 201
        body = uploaded.json()
        assert (body["sha256"], body["size_bytes"], body["filename"], body["kind"]) == (
            hashlib.sha256(content).hexdigest(), len(content), "3.1 cert.pdf", "certificate")
        download = await client.get(f"{API}/attachments/{body['id']}/content", headers=auditor.headers)
        assert (download.status_code, download.content) == (200, content)
        assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''3.1%20cert.pdf"

    async def test_a_drawing_larger_than_the_general_body_limit_is_accepted(
        self, store_client: AsyncClient, supplier: Member, auditor: Member
    ) -> None:
        client = store_client
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        drawing = b"%PDF-1.7\n" + bytes(range(256)) * (5 * 4096)  # 5 MiB, over the 2 MiB limit of other bodies
        uploaded = await client.post(f"{API}/materials/{material['id']}/attachments", headers=supplier.headers,
                                     files={"file": ("assembly.pdf", drawing, "application/pdf")},
                                     data={"kind": "drawing"})
        assert (uploaded.status_code, uploaded.json()["size_bytes"]) == (201, len(drawing))
        download = await client.get(f"{API}/attachments/{uploaded.json()['id']}/content", headers=auditor.headers)
        assert hashlib.sha256(download.content).hexdigest() == hashlib.sha256(drawing).hexdigest()

    async def test_a_private_attachment_is_only_for_the_uploader(
        self, store_client: AsyncClient, supplier: Member, auditor: Member
    ) -> None:
        client = store_client
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{material['id']}/attachments"
        private = (await client.post(url, headers=supplier.headers, data={"kind": "drawing", "is_public": "false"},
                                     files={"file": ("d.png", b"\x89PNG drawing", "image/png")})).json()
        assert [a["id"] for a in (await client.get(url, headers=supplier.headers)).json()] == [private["id"]]
        assert (await client.get(url, headers=auditor.headers)).json() == []
        hidden = await client.get(f"{API}/attachments/{private['id']}/content", headers=auditor.headers)
        assert hidden.status_code == 404

    async def test_an_upload_retried_with_its_idempotency_key_is_stored_once(
        self, store_client: AsyncClient, supplier: Member
    ) -> None:
        # given: an attachment uploaded with an Idempotency-Key
        client = store_client
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{material['id']}/attachments"
        headers = supplier.headers | {"Idempotency-Key": "attachment-upload-0001"}
        certificate = {"file": ("cert.pdf", b"%PDF certificate", "application/pdf")}
        first = await client.post(url, headers=headers, files=certificate, data={"kind": "certificate"})
        # when: the client retries it (a new multipart boundary), and sends another file under the same key
        retried = await client.post(url, headers=headers, files=certificate, data={"kind": "certificate"})
        another = {"file": ("cert.pdf", b"%PDF another", "application/pdf")}
        other = await client.post(url, headers=headers, files=another, data={"kind": "certificate"})
        # then: the retry is answered with the first response, the other file is refused, one attachment exists
        assert first.status_code == 201, first.text
        assert (retried.status_code, retried.headers["idempotent-replayed"]) == (201, "true")
        assert retried.json() == first.json()
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
        assert [a["id"] for a in (await client.get(url, headers=supplier.headers)).json()] == [first.json()["id"]]

    async def test_refused_types_and_empty_files(self, client: AsyncClient, supplier: Member) -> None:
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{material['id']}/attachments"
        script = await client.post(url, headers=supplier.headers, files={"file": ("x.html", b"<script>", "text/html")})
        empty = await client.post(url, headers=supplier.headers, files={"file": ("e.pdf", b"", "application/pdf")})
        assert (script.status_code, script.json()["code"]) == (422, "catalog.attachment_type_refused")
        assert (empty.status_code, empty.json()["code"]) == (422, "catalog.attachment_empty")

    async def test_a_presigning_store_redirects_the_download_after_the_visibility_check(
        self, client: AsyncClient, s3_endpoint: str, supplier: Member, auditor: Member
    ) -> None:
        client._transport.app.state.attachment_storage = make_s3_storage(  # type: ignore[attr-defined]
            s3_endpoint, presign_seconds=60)
        material = (await client.post(f"{API}/materials", json=bolt_body(), headers=supplier.headers)).json()
        url = f"{API}/materials/{material['id']}/attachments"
        public = (await client.post(url, headers=supplier.headers,
                                    files={"file": ("spec.pdf", b"%PDF spec", "application/pdf")})).json()
        private = (await client.post(url, headers=supplier.headers, data={"is_public": "false"},
                                     files={"file": ("own.pdf", b"%PDF own", "application/pdf")})).json()
        redirect = await client.get(f"{API}/attachments/{public['id']}/content", headers=auditor.headers)
        assert redirect.status_code == 307
        async with AsyncClient() as outside:
            fetched = await outside.get(redirect.headers["location"])
        assert (fetched.status_code, fetched.content) == (200, b"%PDF spec")
        hidden = await client.get(f"{API}/attachments/{private['id']}/content", headers=auditor.headers)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "catalog.attachment_not_found")
