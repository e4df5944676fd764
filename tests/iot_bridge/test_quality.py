"""CMM measurements in a production order: stored once, out-of-tolerance parts as EPCIS ObjectEvents."""

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge import production
from iot_bridge.models import Device
from iot_bridge.telemetry import TelemetryRow
from ledger.epcis.models import StoredEpcisEvent
from tests.iot_bridge.test_production import T0, Line, confirmed_line
from tests.materials_factories import act_as, as_owner, owner_actor


async def with_cmm(session: AsyncSession, line: Line) -> uuid.UUID:
    cmm = Device(org_id=line.world.supplier.org.id, code="cmm-1", name="CMM", type_code="coordinate_measuring_machine",
                 protocol="sparkplug", lifecycle="active", desired_attributes={}, reported_attributes={})
    session.add(cmm)
    await session.flush()
    await act_as(session, line.world.supplier)
    await production.start_production(session, actor=owner_actor(line.world.supplier), order_line_id=line.line_id,
                                      work_centre="PRESS-A", device_ids=[line.device_id, cmm.id])
    await as_owner(session)
    return cmm.id


def deviation(line: Line, cmm_id: uuid.UUID, minutes: int, value: float, seq: int) -> TelemetryRow:
    return TelemetryRow.of(org_id=line.world.supplier.org.id, device_id=cmm_id, key="last_deviation",
                           ts=T0 + dt.timedelta(minutes=minutes), value=value, seq=seq, historical=False)


async def test_measurements_are_counted_once_and_parts_out_of_tolerance_are_epcis_events(session: AsyncSession):
    # given a line in production on a press and a CMM (tolerance ±0.05 mm)
    line = await confirmed_line(session)
    cmm_id = await with_cmm(session, line)
    batch = [deviation(line, cmm_id, 1, 0.01, 1), deviation(line, cmm_id, 2, -0.08, 2),
             deviation(line, cmm_id, 3, 0.05, 3), deviation(line, cmm_id, 4, 0.2, 4)]
    # when the bridge stores the batch twice (a redelivery)
    await production.apply_telemetry(session, batch)
    await production.apply_telemetry(session, batch)
    # then four parts are inspected, two out of tolerance, each recorded once as a non-conformant ObjectEvent
    events = (await session.execute(select(StoredEpcisEvent.document).where(
        StoredEpcisEvent.org_id == line.world.supplier.org.id, StoredEpcisEvent.event_type == "ObjectEvent"))).all()
    reports = sorted(doc["sensorElementList"][0]["sensorReport"][0]["value"] for (doc,) in events)
    assert reports == [-0.08, 0.2]
    assert {doc["disposition"] for (doc,) in events} == {"non_conformant"}
    # and the buyer sees the quality counts with the progress; another supplier sees nothing
    await act_as(session, line.world.buyer)
    (seen,) = await production.progress_for_order(session, order_id=line.order_id)
    assert (seen.inspected, seen.out_of_tolerance) == (4, 2)
    await act_as(session, line.world.other_supplier)
    assert await production.progress_for_order(session, order_id=line.order_id) == []
