"""``/api/v1/qualifications`` over HTTP: record, submit, review (If-Match), files, flags, tenancy, bad input."""

import hashlib
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_member
from tradeloom.identity.roles import OrgKind, Role

LICENCE_KEY = {"Idempotency-Key": "qualification-licence-0001"}


def body(**overrides: Any) -> dict[str, Any]:
    return {"doc_type": "iso9001", "number": "CN-QMS-0042", "issuer": "CQC", "valid_from": "2024-01-01",
            "valid_until": "2027-06-30"} | overrides


async def test_submit_review_file_and_flags(session: AsyncSession, client: AsyncClient) -> None:
    # given
    buyer = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    stranger = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
    # when the buyer records a required licence that already ran out
    expired = await client.post("/api/v1/qualifications", headers=buyer.headers | LICENCE_KEY,
                                json=body(doc_type="business_licence", valid_from=None, valid_until="2026-01-31",
                                          is_required=True, supplier_org_id=str(supplier.org.id)))
    replay = await client.post("/api/v1/qualifications", headers=buyer.headers | LICENCE_KEY,
                               json=body(doc_type="business_licence", valid_from=None, valid_until="2026-01-31",
                                         is_required=True, supplier_org_id=str(supplier.org.id)))
    # then it is approved, expired, and the replay answers the same document
    assert expired.status_code == 201, expired.text
    assert (expired.json()["status"], expired.json()["standing"], expired.headers["ETag"]) == (
        "approved", "expired", '"1"')
    assert replay.json()["id"] == expired.json()["id"]
    flags = await client.get(f"/api/v1/qualifications/supplier-flags?supplier_org_id={supplier.org.id}",
                             headers=buyer.headers)
    assert flags.json() == [{"supplier_org_id": str(supplier.org.id), "expired_required": ["business_licence"]}]
    # when the supplier submits its ISO 9001 with the scan, and the buyer approves it
    submitted = await client.post("/api/v1/qualifications/submitted", json=body(buyer_org_id=str(buyer.org.id)),
                                  headers=supplier.headers | {"Idempotency-Key": "qualification-iso-0001"})
    assert submitted.status_code == 201, submitted.text
    document_id = submitted.json()["id"]
    scan = b"%PDF-1.7 certificate scan"
    attached = await client.post(f"/api/v1/qualifications/{document_id}/file", headers=supplier.headers,
                                 files={"file": ("iso.pdf", scan, "application/pdf")})
    assert attached.json()["file_sha256"] == hashlib.sha256(scan).hexdigest()
    stale = await client.post(f"/api/v1/qualifications/{document_id}/review", json={"approve": True},
                              headers=buyer.headers | {"If-Match": '"7"'})
    approved = await client.post(f"/api/v1/qualifications/{document_id}/review", json={"approve": True},
                                 headers=buyer.headers | {"If-Match": '"2"'})
    # then
    assert (stale.status_code, approved.status_code) == (412, 200)
    assert approved.json()["status"] == "approved"
    download = await client.get(f"/api/v1/qualifications/{document_id}/file", headers=buyer.headers)
    assert (download.content, download.headers["content-disposition"]) == (scan, "attachment; filename*=UTF-8''iso.pdf")
    listed = await client.get("/api/v1/qualifications", headers=supplier.headers)
    assert sorted(d["doc_type"] for d in listed.json()) == ["business_licence", "iso9001"]
    # and nobody else sees them
    assert (await client.get("/api/v1/qualifications", headers=stranger.headers)).json() == []
    hidden = await client.get(f"/api/v1/qualifications/{document_id}", headers=stranger.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "qualification_not_found")


async def test_bad_input_is_422_and_stores_nothing(session: AsyncSession, client: AsyncClient) -> None:
    buyer = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    for wrong, code in [(body(doc_type="horoscope"), None), (body(valid_until="31.12.2027"), None),
                        (body(colour="red"), None), (body(valid_from="2028-01-01"), "qualification_validity_invalid"),
                        (body(supplier_org_id=str(buyer.org.id)), "qualification_supplier_unknown")]:
        wrong.setdefault("supplier_org_id", str(supplier.org.id))
        answer = await client.post("/api/v1/qualifications", json=wrong, headers=buyer.headers)
        assert answer.status_code == 422, wrong
        assert answer.headers["content-type"].startswith("application/problem+json")
        if code:
            assert answer.json()["code"] == code
    # a supplier may not record documents as a buyer, a buyer may not submit as a supplier
    assert (await client.post("/api/v1/qualifications", json=body(supplier_org_id=str(supplier.org.id)),
                              headers=supplier.headers)).status_code == 403
    assert (await client.post("/api/v1/qualifications/submitted", json=body(buyer_org_id=str(buyer.org.id)),
                              headers=buyer.headers)).status_code == 403
    assert (await client.get("/api/v1/qualifications", headers=buyer.headers)).json() == []
