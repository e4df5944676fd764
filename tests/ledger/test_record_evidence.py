"""record_evidence: an unsequenced, canonical entry in the caller's transaction, confined to its tenant."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.canonical import EvidenceEntry
from ledger.merkle import leaf_hash
from ledger.models import EvidenceRecord
from ledger.service import record_evidence
from tests.factories import make_org
from tradeloom.db import apply_tenant
from tradeloom.errors import Invalid


async def test_records_the_canonical_entry_and_its_leaf_hash(session: AsyncSession) -> None:
    # given
    org = await make_org(session)
    await apply_tenant(session, org_id=org.id)
    # when
    receipt = await record_evidence(session, org_id=org.id, kind="order.submitted", subject="order:42",
                                    payload={"total": "1250.0000", "currency": "CNY"})
    # then
    record = (await session.scalars(select(EvidenceRecord))).one()
    entry = EvidenceEntry.from_canonical(record.entry_data)
    assert (entry.kind, entry.subject, entry.org, entry.payload) == (
        "order.submitted", "order:42", str(org.id), {"total": "1250.0000", "currency": "CNY"})
    assert record.leaf_hash == leaf_hash(record.entry_data)
    assert receipt.leaf_hash_hex == record.leaf_hash.hex()
    assert record.leaf_index is None


async def test_a_payload_that_json_cannot_carry_exactly_is_refused(session: AsyncSession) -> None:
    org = await make_org(session)
    with pytest.raises(Invalid) as refused:
        await record_evidence(session, org_id=org.id, kind="x", subject="y", payload={"amount": float("nan")})
    assert refused.value.code == "evidence_invalid"


async def test_the_app_role_cannot_alter_recorded_evidence(session: AsyncSession) -> None:
    org = await make_org(session)
    await apply_tenant(session, org_id=org.id)
    await record_evidence(session, org_id=org.id, kind="k", subject="s", payload={"a": 1})
    for statement in ("UPDATE evidence_entries SET kind = 'forged'", "DELETE FROM evidence_entries"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with session.begin_nested():
                await session.execute(text(statement))
