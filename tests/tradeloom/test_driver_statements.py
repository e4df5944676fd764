"""Driver statements: Core statements compiled once and run on the psycopg connection of the session's transaction;
``insert_rows``, which runs on them."""

import uuid

import pytest
from sqlalchemy import ARRAY, PickleType, String, any_, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tradeloom.db import insert_rows, make_sessionmaker, utcnow
from tradeloom.driver_statements import DriverStatement
from tradeloom.idempotency import IdempotencyRecord
from tradeloom.outbox.models import OutboxEvent

_KEY_COLUMNS = ("org_id", "key", "request_hash", "method", "path", "created_at", "response_headers")
_WRITE = DriverStatement(insert(IdempotencyRecord).values({name: bindparam(name) for name in _KEY_COLUMNS}))
_READ = DriverStatement(select(IdempotencyRecord.key, IdempotencyRecord.response_headers).where(
    IdempotencyRecord.key == any_(bindparam("keys", type_=ARRAY(String)))).order_by(IdempotencyRecord.key))
_TRANSACTION_ID = DriverStatement(text("SELECT txid_current()"))


def _record(key: str, headers: dict[str, str] | None) -> dict[str, object]:
    return {"org_id": uuid.uuid4(), "key": key, "request_hash": "0" * 64, "method": "POST", "path": "/x",
            "created_at": utcnow(), "response_headers": headers}


async def test_it_writes_and_reads_in_the_sessions_own_transaction(session: AsyncSession) -> None:
    # given two rows written by a driver statement, one with JSON headers and one without
    await _WRITE.execute(session, _record("k-1", {"etag": '"3"'}))
    await _WRITE.execute(session, _record("k-2", None))
    # then the session's own reads see them (one transaction), the JSON as JSON and None as SQL NULL
    assert await session.scalar(select(IdempotencyRecord.response_headers).where(IdempotencyRecord.key == "k-1")) == {
        "etag": '"3"'}
    assert await session.scalar(text("SELECT count(*) FROM idempotency_keys WHERE response_headers IS NULL")) == 1
    # and a driver read answers plain rows, any number of keys in one statement
    assert await _READ.rows(session, {"keys": ["k-1", "k-2", "k-3"]}) == [("k-1", {"etag": '"3"'}), ("k-2", None)]
    # when the session rolls back, they are gone for both
    await session.rollback()
    assert await _READ.rows(session, {"keys": ["k-1", "k-2"]}) == []


async def test_database_errors_come_out_as_sqlalchemy_errors(session: AsyncSession) -> None:
    record = _record("k-1", None)
    await _WRITE.execute(session, record)
    with pytest.raises(IntegrityError):  # what tradeloom.storage_errors answers with a 409
        await _WRITE.execute(session, record)


def test_statements_psycopg_cannot_take_as_they_are_are_refused_when_built() -> None:
    with pytest.raises(ValueError, match="expanding IN"):
        DriverStatement(select(IdempotencyRecord.key).where(
            IdempotencyRecord.key.in_(bindparam("keys", expanding=True))))
    with pytest.raises(TypeError, match="PickleType"):
        DriverStatement(select(bindparam("value", type_=PickleType())))


async def test_each_transaction_uses_its_own_connection(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as session:
        # given a transaction of the session, then the driver runs in it
        assert await _TRANSACTION_ID.scalar(session, {}) == await session.scalar(text("SELECT txid_current()"))
        await session.commit()
        # when its connection went back to the pool and another holder took it
        async with engine.connect() as other:
            await other.execute(text("SELECT 1"))
            # then the session's next transaction is the driver's too, on whatever connection it now has
            assert await _TRANSACTION_ID.scalar(session, {}) == await session.scalar(text("SELECT txid_current()"))


@pytest.mark.parametrize("count", [3, 30])  # 15 parameters: one VALUES statement; 150: arrays through unnest
async def test_insert_rows_keeps_the_order_and_fills_constant_defaults(session: AsyncSession, count: int) -> None:
    org_id, now = uuid.uuid4(), utcnow()
    rows = [{"org_id": org_id, "topic": f"t.{index}", "payload": {"n": index}, "created_at": now, "available_at": now}
            for index in range(count)]
    await insert_rows(session, OutboxEvent, rows)
    stored = (await session.execute(select(OutboxEvent.topic, OutboxEvent.payload, OutboxEvent.attempts).where(
        OutboxEvent.org_id == org_id).order_by(OutboxEvent.id))).all()
    assert [tuple(row) for row in stored] == [(f"t.{index}", {"n": index}, 0) for index in range(count)]


async def test_insert_rows_refuses_to_leave_out_a_computed_default(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match="created_at"):
        await insert_rows(session, OutboxEvent, [{"org_id": uuid.uuid4(), "topic": "t", "payload": {},
                                                  "available_at": utcnow()}])
