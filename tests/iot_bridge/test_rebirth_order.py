"""A Rebirth whose DBIRTH reaches the bridge before its NBIRTH loses no data (issue #9).

MQTT keeps order per topic only; under the bridge's backlog after a restart, Mosquitto 2.0.11 delivered DBIRTHs
of a rebirth ahead of the NBIRTH (same bdSeq). The bridge used to forget them at the NBIRTH and refuse the
devices' next DDATA as ``unknown_device`` — acknowledged, so the edge node dropped it from its spool.
Here the bridge receives the messages in that order, against the real Mosquitto, PostgreSQL and Redis.
"""

from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge.sparkplug import BD_SEQ, DataType, MessageType, Metric
from tests.iot_bridge.bridge_world import World, node_birth, stored


def count_parts(world: World, seq: int, good_count: int) -> None:
    world.sparkplug(MessageType.DDATA, seq, (Metric(None, good_count, DataType.INT64, alias=2),))


def rebirth_device_first(world: World) -> None:
    """The births of a Rebirth (bdSeq 0 again) in the order the bridge received them: DBIRTH, then NBIRTH."""
    world.sparkplug(MessageType.DBIRTH, 1, (Metric("good_count", 1, DataType.INT64, alias=2),))
    world.sparkplug(MessageType.NBIRTH, 0, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)


async def good_counts(engine: AsyncEngine, world: World) -> set[float | None]:
    return {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"}


async def test_data_after_a_rebirth_whose_device_birth_came_first_is_stored(world: World, engine: AsyncEngine):
    # given a born edge node and device that reported once
    node_birth(world)
    count_parts(world, 2, 1)
    # when a Rebirth's DBIRTH reaches the bridge before its NBIRTH, and the device reports again
    rebirth_device_first(world)
    count_parts(world, 2, 2)
    # then that report is stored, none was refused for want of a birth
    await world.until(lambda: world.bridge.totals["accepted"] >= 6)
    assert await good_counts(engine, world) >= {1.0, 2.0}
    assert world.bridge.totals["unknown_device"] == 0


async def test_a_bridge_restarted_after_such_a_rebirth_decodes_the_device_too(world: World, engine: AsyncEngine):
    # given the same rebirth, device birth first, stored by a bridge that then stops
    node_birth(world)
    rebirth_device_first(world)
    await world.until(lambda: world.bridge.totals["accepted"] >= 4)
    await world.running.stop()
    # when a new bridge (sessions restored from iot_edge_sessions) receives the device's next report
    await world.start_new_bridge()
    count_parts(world, 2, 3)
    # then it is stored
    await world.until(lambda: world.bridge.totals["accepted"] >= 1)
    assert await good_counts(engine, world) >= {3.0}
    assert world.bridge.totals["unknown_device"] == 0
