"""Quality results from measuring devices (CMM) of a production order, and out-of-tolerance parts as EPCIS.

A device type whose ``production`` mapping names a ``deviation`` key and a ``tolerance`` (the coordinate
measuring machine) reports, per measured part, its deviation from nominal. The bridge stores each reading of
a device in a running production order once per (order, device, timestamp, seq) — a replayed message inserts
nothing — and recounts the order's ``inspected`` and ``out_of_tolerance`` from the stored results. A part out
of tolerance is also recorded as an EPCIS **ObjectEvent** (action OBSERVE, bizStep ``inspecting``,
disposition ``non_conformant``, the production's parts as ``quantityList``, the measurement in
``sensorElementList``) through the ledger's capture service; its eventID derives from the reading, so a replay
is a duplicate there too.
"""

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.device_types import load_device_types
from iot_bridge.epcis_events import capture_event
from iot_bridge.models import ProductionOrder, QualityResult
from iot_bridge.telemetry import TelemetryRow
from tradeloom.audit import Actor

_TOLERANCE_BY_KEY = {spec.production.deviation: spec.production.tolerance for spec in load_device_types().values()
                     if spec.production is not None and spec.production.deviation is not None}


async def apply_measurements(session: AsyncSession, production: ProductionOrder,
                             rows: Sequence[TelemetryRow]) -> None:
    """Store the deviation readings (the bridge's transaction), record new out-of-tolerance parts, recount."""
    measured = [row for row in rows if row.value_num is not None]
    if not measured:
        return
    inserted = (await session.execute(insert(QualityResult).values([
        {"org_id": production.org_id, "production_order_id": production.id, "device_id": row.device_id,
         "ts": row.ts, "seq": -1 if row.seq is None else row.seq, "deviation": row.value_num,
         "in_tolerance": abs(row.value_num or 0.0) <= (_TOLERANCE_BY_KEY.get(row.key) or 0.0)}
        for row in measured
    ]).on_conflict_do_nothing().returning(QualityResult.device_id, QualityResult.ts, QualityResult.seq,
                                           QualityResult.deviation, QualityResult.in_tolerance))).all()
    for device_id, ts, seq, deviation, in_tolerance in inserted:
        if not in_tolerance:
            await capture_event(session, Actor(org_id=production.org_id),
                                out_of_tolerance_event(production, device_id, ts, seq, deviation), ts)
    counts = (await session.execute(
        select(func.count(), func.count().filter(QualityResult.in_tolerance.is_(False)))
        .where(QualityResult.production_order_id == production.id))).one()
    production.inspected, production.out_of_tolerance = int(counts[0]), int(counts[1])


def out_of_tolerance_event(production: ProductionOrder, device_id: uuid.UUID, ts: dt.datetime, seq: int,
                           deviation: float) -> dict[str, object]:
    device = f"urn:tradeloom:device:{device_id}"
    return {
        "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid5(production.id, f'oot:{device_id}:{ts}:{seq}')}",
        "eventTime": ts.isoformat(), "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
        "quantityList": [{"epcClass": f"urn:tradeloom:production:{production.id}", "quantity": 1}],
        "bizStep": "inspecting", "disposition": "non_conformant", "readPoint": {"id": device},
        "sensorElementList": [{
            "sensorMetadata": {"time": ts.isoformat(), "deviceID": device},
            "sensorReport": [{"type": "gs1:Length", "value": deviation, "uom": "MMT",
                              "ex:orderLine": f"urn:tradeloom:order-line:{production.order_line_id}"}],
        }],
    }
