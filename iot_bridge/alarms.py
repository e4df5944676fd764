"""Alarms: stored transitions from the bridge, and their lifecycle active → acknowledged → cleared.

One open (not cleared) alarm per device and rule is guaranteed by the partial unique index
``uq_iot_alarms_open``: a repeated raise is absorbed by ``ON CONFLICT DO NOTHING``. Raising and clearing
emit ``iot.alarm.raised`` / ``iot.alarm.cleared`` through the outbox (webhooks, notifications).
"""

import uuid
from collections.abc import Iterable

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.alarm_rules import Transition
from iot_bridge.models import Alarm, AlarmStatus
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, NotFound
from tradeloom.outbox.service import emit

OPEN = Alarm.status != AlarmStatus.CLEARED.value


async def apply_transitions(session: AsyncSession, transitions: Iterable[tuple[uuid.UUID, Transition]]) -> int:
    """Store raises and clears from the evaluator (as the bridge, for any tenant); returns how many changed."""
    changed = 0
    for org_id, transition in transitions:
        alarm_id = await (_raise(session, org_id, transition) if transition.raised else _clear(session, transition))
        if alarm_id is not None:
            changed += 1
            await emit(session, org_id=org_id, topic=f"iot.alarm.{'raised' if transition.raised else 'cleared'}",
                       payload={"alarm_id": str(alarm_id), "device_id": str(transition.device_id),
                                "rule": transition.rule.code, "severity": transition.rule.severity.value,
                                "message": transition.message, "at": transition.at.isoformat()})
    return changed


async def _raise(session: AsyncSession, org_id: uuid.UUID, transition: Transition) -> uuid.UUID | None:
    statement = insert(Alarm).values(
        id=uuid.uuid4(), org_id=org_id, device_id=transition.device_id, rule_code=transition.rule.code,
        severity=transition.rule.severity.value, status=AlarmStatus.ACTIVE.value, message=transition.message[:500],
        value=transition.value, raised_at=transition.at, version=1,
    ).on_conflict_do_nothing(index_elements=["device_id", "rule_code"], index_where=text("status <> 'cleared'"))
    return await session.scalar(statement.returning(Alarm.id))


async def _clear(session: AsyncSession, transition: Transition) -> uuid.UUID | None:
    return await session.scalar(
        update(Alarm).where(Alarm.device_id == transition.device_id, Alarm.rule_code == transition.rule.code, OPEN)
        .values(status=AlarmStatus.CLEARED.value, cleared_at=transition.at, version=Alarm.version + 1)
        .returning(Alarm.id)
    )


async def open_alarm_pairs(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """(device, rule) of every open alarm: the bridge starts its evaluator from them."""
    return [(d, r) for d, r in (await session.execute(select(Alarm.device_id, Alarm.rule_code).where(OPEN))).all()]


async def list_alarms(
    session: AsyncSession, *, open_only: bool = True, device_id: uuid.UUID | None = None, limit: int = 200
) -> list[Alarm]:
    """The caller's alarms, newest first: open ones (console) or all (history)."""
    query = select(Alarm).order_by(Alarm.raised_at.desc()).limit(limit)
    if open_only:
        query = query.where(OPEN)
    if device_id is not None:
        query = query.where(Alarm.device_id == device_id)
    return list((await session.scalars(query)).all())


async def get_alarm(session: AsyncSession, *, alarm_id: uuid.UUID) -> Alarm:
    alarm = await session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound("No such alarm.", code="alarm_not_found")
    return alarm


async def acknowledge(session: AsyncSession, *, actor: Actor, alarm_id: uuid.UUID, expected_version: int) -> Alarm:
    """An operator has seen an active alarm."""
    alarm = await get_alarm(session, alarm_id=alarm_id)
    check_version(alarm.version, expected_version)
    if alarm.status != AlarmStatus.ACTIVE.value:
        raise Conflict(f"Only an active alarm can be acknowledged; this one is {alarm.status}.",
                       code="alarm_not_active")
    alarm.status, alarm.acknowledged_at, alarm.acknowledged_by = AlarmStatus.ACKNOWLEDGED.value, utcnow(), actor.user_id
    await session.flush()
    await record_audit(session, actor=actor, action="iot.alarm.acknowledged", object_type="iot_alarm",
                       object_id=alarm.id, details={"rule": alarm.rule_code})
    return alarm


async def clear(session: AsyncSession, *, actor: Actor, alarm_id: uuid.UUID, expected_version: int) -> Alarm:
    """An operator closes an alarm by hand (the next violation raises a new one)."""
    alarm = await get_alarm(session, alarm_id=alarm_id)
    check_version(alarm.version, expected_version)
    if alarm.status == AlarmStatus.CLEARED.value:
        raise Conflict("The alarm is already cleared.", code="alarm_already_cleared")
    alarm.status, alarm.cleared_at = AlarmStatus.CLEARED.value, utcnow()
    await session.flush()
    await emit(session, org_id=alarm.org_id, topic="iot.alarm.cleared",
               payload={"alarm_id": str(alarm.id), "device_id": str(alarm.device_id), "rule": alarm.rule_code,
                        "by": "operator"})
    await record_audit(session, actor=actor, action="iot.alarm.cleared", object_type="iot_alarm",
                       object_id=alarm.id, details={"rule": alarm.rule_code})
    return alarm
