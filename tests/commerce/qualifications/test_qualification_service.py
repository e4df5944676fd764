"""Supplier qualification documents: recorded by buyers, submitted by suppliers and reviewed, files with
their SHA-256, suppliers lacking a required document, and the expiry announcements (30/7 days, expired)."""

import datetime as dt
import hashlib
import io
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.storage import LocalAttachmentStorage
from commerce.qualifications import service
from commerce.qualifications.expiry import EXPIRED, EXPIRING, send_reminders
from commerce.qualifications.models import SupplierQualification
from commerce.qualifications.rules import DocType, due_reminder, standing
from commerce.qualifications.service import QualificationFields, UploadedFile
from tests.factories import Member, make_member
from tests.materials_factories import as_owner
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.errors import Conflict, Forbidden, Invalid, NotFound, PreconditionFailed
from tradeloom.identity.roles import OrgKind, Role
from tradeloom.outbox.models import OutboxEvent

TODAY = dt.date(2026, 11, 25)


def iso9001(valid_until: dt.date, *, required: bool = True, number: str = "CN-QMS-0042") -> QualificationFields:
    return QualificationFields(DocType.ISO_9001, number, "China Quality Certification Centre", valid_until,
                               dt.date(2024, 1, 1), required)


def actor(member: Member) -> Actor:
    return Actor(org_id=member.org.id, user_id=member.user.id)


async def parties(session: AsyncSession) -> tuple[Member, Member]:
    buyer = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    return buyer, supplier


async def events(session: AsyncSession, topic_prefix: str) -> list[tuple[uuid.UUID, str, int | None, str]]:
    await as_owner(session)
    rows = await session.scalars(select(OutboxEvent).where(OutboxEvent.topic.startswith(topic_prefix))
                                 .order_by(OutboxEvent.id))
    return [(e.org_id, e.topic, e.payload.get("days_before"), e.payload["number"]) for e in rows]


class TestRules:
    @pytest.mark.parametrize(("days_left", "sent", "due"), [
        (31, {30: False, 7: False}, None), (30, {30: False, 7: False}, 30), (20, {30: True, 7: False}, None),
        (7, {30: True, 7: False}, 7), (5, {30: False, 7: False}, 7), (3, {30: True, 7: True}, None),
        (-1, {30: False, 7: False}, None)])
    def test_the_nearest_reminder_not_yet_sent_is_due(self, days_left: int, sent: dict[int, bool],
                                                      due: int | None) -> None:
        assert due_reminder(TODAY + dt.timedelta(days=days_left), TODAY, sent) == due

    def test_standing(self) -> None:
        assert [standing(TODAY + dt.timedelta(days=d), TODAY) for d in (-1, 0, 30, 31)] == [
            "expired", "expiring", "expiring", "valid"]


class TestSubmitAndReview:
    async def test_a_supplier_submits_and_the_buyer_approves(self, session: AsyncSession) -> None:
        # given
        buyer, supplier = await parties(session)
        await apply_tenant(session, org_id=supplier.org.id)
        # when the supplier submits (is_required is the buyer's call, not the supplier's)
        document = await service.submit_qualification(session, actor=actor(supplier), buyer_org_id=buyer.org.id,
                                                      fields=iso9001(dt.date(2027, 6, 30), required=True))
        # then it is pending, announced to the supplier's own subscribers
        assert (document.status, document.is_required, document.org_id) == ("pending", False, buyer.org.id)
        assert await events(session, "supplier.qualification") == [
            (supplier.org.id, "supplier.qualification.submitted", None, "CN-QMS-0042")]
        # when the buyer approves it, marking it required
        await apply_tenant(session, org_id=buyer.org.id)
        reviewed = await service.review_qualification(session, actor=actor(buyer), qualification_id=document.id,
                                                      expected_version=1, approve=True, note=None, is_required=True)
        assert (reviewed.status, reviewed.is_required, reviewed.version) == ("approved", True, 2)
        # and a second review, or a stale one, is refused
        with pytest.raises(PreconditionFailed):
            await service.review_qualification(session, actor=actor(buyer), qualification_id=document.id,
                                               expected_version=1, approve=False, note="late")
        with pytest.raises(Conflict):
            await service.review_qualification(session, actor=actor(buyer), qualification_id=document.id,
                                               expected_version=2, approve=False, note="late")

    async def test_refusals(self, session: AsyncSession) -> None:
        buyer, supplier = await parties(session)
        stranger = await make_member(session, roles=(Role.BUYER,), kind=OrgKind.BUYER)
        await apply_tenant(session, org_id=supplier.org.id)
        document = await service.submit_qualification(session, actor=actor(supplier), buyer_org_id=buyer.org.id,
                                                      fields=iso9001(dt.date(2027, 6, 30)))
        # the supplier cannot review its own document
        with pytest.raises(Forbidden):
            await service.review_qualification(session, actor=actor(supplier), qualification_id=document.id,
                                               expected_version=1, approve=True, note=None)
        # validity backwards, a buyer that is a supplier, a rejection without a reason
        backwards = QualificationFields(DocType.BUSINESS_LICENCE, "L-1", "SAMR", dt.date(2020, 1, 1),
                                        dt.date(2021, 1, 1))
        with pytest.raises(Invalid) as refused:
            await service.submit_qualification(session, actor=actor(supplier), buyer_org_id=buyer.org.id,
                                               fields=backwards)
        assert refused.value.code == "qualification_validity_invalid"
        with pytest.raises(Invalid) as refused:
            await service.submit_qualification(session, actor=actor(supplier), buyer_org_id=uuid.uuid4(),
                                               fields=iso9001(dt.date(2027, 6, 30)))
        assert refused.value.code == "qualification_buyer_unknown"
        await apply_tenant(session, org_id=buyer.org.id)
        with pytest.raises(Invalid) as refused:
            await service.review_qualification(session, actor=actor(buyer), qualification_id=document.id,
                                               expected_version=1, approve=False, note="  ")
        assert refused.value.code == "qualification_note_missing"
        # another buyer does not see it at all
        await apply_tenant(session, org_id=stranger.org.id)
        session.expunge_all()  # a request's session starts empty
        with pytest.raises(NotFound):
            await service.get_qualification(session, qualification_id=document.id)

    async def test_the_file_is_stored_under_its_sha256(self, session: AsyncSession, tmp_path: Path) -> None:
        # given
        buyer, supplier = await parties(session)
        storage = LocalAttachmentStorage(tmp_path)
        await apply_tenant(session, org_id=buyer.org.id)
        document = await service.record_qualification(session, actor=actor(buyer), supplier_org_id=supplier.org.id,
                                                      fields=iso9001(dt.date(2027, 6, 30)))
        content = b"%PDF-1.7 ISO 9001 certificate"
        # when
        await service.attach_file(session, storage, actor=actor(buyer), qualification_id=document.id,
                                  upload=UploadedFile("C:\\scans\\iso9001.pdf", "application/pdf", io.BytesIO(content)))
        # then the supplier may download it, but no longer change an approved document
        await apply_tenant(session, org_id=supplier.org.id)
        found, chunks = await service.file_chunks(session, storage, qualification_id=document.id)
        assert (found.file_sha256, found.file_name, b"".join(chunks)) == (
            hashlib.sha256(content).hexdigest(), "iso9001.pdf", content)
        with pytest.raises(Forbidden):
            await service.attach_file(session, storage, actor=actor(supplier), qualification_id=document.id,
                                      upload=UploadedFile("x.pdf", "application/pdf", io.BytesIO(b"other")))
        with pytest.raises(Invalid):
            await apply_tenant(session, org_id=buyer.org.id)
            await service.attach_file(session, storage, actor=actor(buyer), qualification_id=document.id,
                                      upload=UploadedFile("x.exe", "application/x-msdownload", io.BytesIO(b"MZ")))


class TestExpiry:
    async def test_reminders_30_and_7_days_before_once_each_then_expired_once(self, session: AsyncSession) -> None:
        # given an approved, required ISO 9001 that runs out on 2026-12-31
        buyer, supplier = await parties(session)
        await apply_tenant(session, org_id=buyer.org.id)
        await service.record_qualification(session, actor=actor(buyer), supplier_org_id=supplier.org.id,
                                           fields=iso9001(dt.date(2026, 12, 31)))
        await as_owner(session)
        # when the daily check runs on these days (twice on some)
        announced = [await send_reminders(session, today=day) for day in (
            dt.date(2026, 11, 30), dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.date(2026, 12, 20),
            dt.date(2026, 12, 24), dt.date(2026, 12, 25), dt.date(2026, 12, 31), dt.date(2027, 1, 1),
            dt.date(2027, 1, 2))]
        # then 30 days before, 7 days before, the day after the last valid day: once each, to both parties
        assert announced == [0, 1, 0, 0, 1, 0, 0, 1, 0]
        assert [(org, topic, days) for org, topic, days, _ in await events(session, "supplier.qualification")] == [
            (buyer.org.id, EXPIRING, 30), (supplier.org.id, EXPIRING, 30),
            (buyer.org.id, EXPIRING, 7), (supplier.org.id, EXPIRING, 7),
            (buyer.org.id, EXPIRED, None), (supplier.org.id, EXPIRED, None)]
        # and the supplier is flagged: its required ISO 9001 expired
        flags = await service.expired_required(session, buyer_org_id=buyer.org.id,
                                               supplier_org_ids=[supplier.org.id], today=dt.date(2027, 1, 1))
        assert flags == {supplier.org.id: ["iso9001"]}

    async def test_a_renewal_clears_the_flag(self, session: AsyncSession) -> None:
        # given an expired required document, and a renewed one approved later
        buyer, supplier = await parties(session)
        await apply_tenant(session, org_id=buyer.org.id)
        for until in (dt.date(2026, 1, 31), dt.date(2029, 1, 31)):
            await service.record_qualification(session, actor=actor(buyer), supplier_org_id=supplier.org.id,
                                               fields=iso9001(until, number=f"CN-QMS-{until.year}"))
        # then
        assert await service.expired_required(session, buyer_org_id=buyer.org.id,
                                              supplier_org_ids=[supplier.org.id], today=TODAY) == {}
        pending = await service.list_qualifications(session, viewer_org_id=buyer.org.id, supplier_org_id=None,
                                                    status=None)
        assert [d.number for d in pending] == ["CN-QMS-2026", "CN-QMS-2029"]

    async def test_pending_documents_are_not_announced(self, session: AsyncSession) -> None:
        buyer, supplier = await parties(session)
        await apply_tenant(session, org_id=supplier.org.id)
        await service.submit_qualification(session, actor=actor(supplier), buyer_org_id=buyer.org.id,
                                           fields=iso9001(TODAY + dt.timedelta(days=3)))
        await as_owner(session)
        assert await send_reminders(session, today=TODAY) == 0
        rows = await session.scalars(select(SupplierQualification.reminded_7_at))
        assert list(rows) == [None]
