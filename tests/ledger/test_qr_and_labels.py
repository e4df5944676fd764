"""QR codes (public for published identifiers) and the label-sheet PDF."""

import uuid

import pytest
import segno
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.labels import Label, labels_pdf
from ledger.identifiers.qr import qr_code
from tests.factories import Member, make_member
from tradeloom.identity.roles import Role


@pytest.fixture
async def supplier(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.WAREHOUSE,))


@pytest.fixture
async def stranger(session: AsyncSession) -> Member:
    return await make_member(session, roles=(Role.WAREHOUSE,))


async def register(client: AsyncClient, member: Member, suffix: str, **fields: object) -> str:
    body = {"suffix": suffix, "description": "液压阀 批次", "gtin": "09506000134376", "lot": suffix} | fields
    response = await client.post("/api/v1/identifiers", json=body, headers=member.headers)
    assert response.status_code == 201
    return str(response.json()["id"])


class TestQrCodes:
    async def test_anyone_gets_the_qr_of_a_published_identifier(self, client: AsyncClient, supplier: Member) -> None:
        identifier_id = await register(client, supplier, "L7", published=True)
        svg = await client.get(f"/api/v1/identifiers/{identifier_id}/qr.svg")
        png = await client.get(f"/api/v1/identifiers/{identifier_id}/qr.png")
        assert (svg.status_code, svg.headers["content-type"]) == (200, "image/svg+xml")
        assert svg.content.startswith(b"<?xml") and b"<svg" in svg.content
        assert b"<title>http://127.0.0.1:8000/01/09506000134376/10/L7</title>" in svg.content
        assert (png.status_code, png.headers["content-type"]) == (200, "image/png")
        assert png.content.startswith(b"\x89PNG\r\n\x1a\n")

    async def test_an_unpublished_identifier_has_no_public_qr_but_its_owner_prints_it(
        self, client: AsyncClient, supplier: Member, stranger: Member
    ) -> None:
        identifier_id = await register(client, supplier, "L8", published=False)
        anonymous = await client.get(f"/api/v1/identifiers/{identifier_id}/qr.svg")
        other_org = await client.get(f"/api/v1/identifiers/{identifier_id}/qr.svg", headers=stranger.headers)
        owner = await client.get(f"/api/v1/identifiers/{identifier_id}/qr.png", headers=supplier.headers)
        assert (anonymous.status_code, other_org.status_code, owner.status_code) == (404, 404, 200)

    def test_the_code_carries_the_digital_link(self) -> None:
        code = qr_code("http://127.0.0.1:8000/01/09506000134376/10/L7")
        assert (code.error, code.is_micro) == ("M", False)
        assert code.designator == segno.make_qr("http://127.0.0.1:8000/01/09506000134376/10/L7", error="m",
                                                boost_error=False).designator


class TestLabelSheet:
    def test_one_page_per_21_labels_with_the_cjk_font(self) -> None:
        labels = [Label(qr_content=f"https://example.test/{n}", title="液压阀 批次", handle=f"88.118.8866/{n}",
                        lines=["GTIN 09506000134376"]) for n in range(22)]
        pdf = labels_pdf(labels)
        assert pdf.startswith(b"%PDF-")
        assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 2
        assert b"STSong-Light" in pdf or b"LabelCJK" in pdf

    async def test_the_endpoint_prints_your_identifiers(self, client: AsyncClient, supplier: Member) -> None:
        ids = [await register(client, supplier, "L9"), await register(client, supplier, "L10")]
        response = await client.post("/api/v1/identifiers/labels.pdf", json={"identifier_ids": ids},
                                     headers=supplier.headers)
        assert (response.status_code, response.headers["content-type"]) == (200, "application/pdf")
        assert response.content.startswith(b"%PDF-")

    async def test_another_organizations_identifier_is_404(
        self, client: AsyncClient, supplier: Member, stranger: Member
    ) -> None:
        theirs = await register(client, supplier, "L11")
        unknown = str(uuid.uuid4())
        response = await client.post("/api/v1/identifiers/labels.pdf", json={"identifier_ids": [theirs, unknown]},
                                     headers=stranger.headers)
        assert response.status_code == 404
        assert response.json()["detail"] == f"No such identifier: {theirs}, {unknown}."
