"""Sparkplug messages of an edge node are ingested in seq order, whatever order the broker delivered them in.

Unit tests of the reorder buffer (pure logic, a hand-wound clock), then the bridge against the real Mosquitto,
PostgreSQL and Redis receiving a node's data before its births, and more early data than the broker keeps in
flight to it.
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from iot_bridge import live
from iot_bridge.bridge.reorder import DEATH_SEQ, HeldChanges, Reorder
from iot_bridge.models import HeldMessage
from iot_bridge.sparkplug import BD_SEQ, DataType, MessageType, Metric, Payload, device_topic, encode_payload
from tests.iot_bridge.bridge_world import World, node_birth, now_ms, stored


@dataclass(frozen=True)
class Sent:
    topic: str
    payload: bytes
    dup: bool = False


def data(seq: int, edge: str = "e1", *, dup: bool = False, timestamp: int = 1) -> Sent:
    return Sent(f"spBv1.0/g/DDATA/{edge}/d1", encode_payload(Payload(timestamp=timestamp, seq=seq)), dup)


BIRTH = Sent("spBv1.0/g/NBIRTH/e1", encode_payload(Payload(timestamp=1, seq=0)))


def death(bd_seq: int = 0, *, dup: bool = False) -> Sent:
    metrics = (Metric(BD_SEQ, bd_seq, DataType.UINT64),)
    return Sent("spBv1.0/g/NDEATH/e1", encode_payload(Payload(timestamp=1, seq=None, metrics=metrics)), dup)


class Node:
    """What the tracker would say: the next seq once born, moving on with each message ingested."""

    def __init__(self) -> None:
        self.next: int | None = None
        self.skipped: set[int] = set()
        self.ingested: list[Sent] = []

    def expected_seq(self, _key: str) -> int | None:
        return self.next

    def was_skipped(self, _key: str, seq: int) -> bool:
        return seq in self.skipped

    def ingest(self, message: Sent) -> None:
        self.ingested.append(message)
        self.next = 1 if message is BIRTH else (self.next or 0) + 1


def run(reorder: Reorder[Sent], node: Node, messages: list[Sent]) -> None:
    """As the bridge's worker does: each message offered, each ingested one followed by what it released."""
    for message in messages:
        pending = reorder.offer(message)
        while pending:
            ready = pending.pop(0)
            node.ingest(ready)
            pending += reorder.after(ready)


class TestReorder:
    def setup_method(self) -> None:
        self.now = 0.0
        self.node = Node()
        self.reorder = Reorder(self.node, timeout_s=10, clock=lambda: self.now)

    def test_data_before_its_birth_waits_for_it_then_follows_in_seq_order(self):
        run(self.reorder, self.node, [data(2), data(1)])
        assert self.node.ingested == [] and self.reorder.waiting() == 2
        run(self.reorder, self.node, [BIRTH])
        assert self.node.ingested == [BIRTH, data(1), data(2)]
        assert self.reorder.waiting() == 0

    def test_in_order_data_passes_while_later_data_waits(self):
        run(self.reorder, self.node, [BIRTH, data(1), data(3), data(2)])
        assert self.node.ingested == [BIRTH, data(1), data(2), data(3)]

    def test_after_the_timeout_waiting_data_goes_on_in_arrival_order(self):
        run(self.reorder, self.node, [BIRTH, data(3), data(5)])
        self.now = 9.9
        assert self.reorder.expired() == []
        self.now = 10.0
        assert self.reorder.expired() == [data(3), data(5)]
        assert self.reorder.waiting() == 0

    def test_the_same_seq_twice_lets_everything_held_go(self):
        run(self.reorder, self.node, [BIRTH, data(3), data(4)])
        wrapped = data(3, timestamp=2)  # 256 messages later, or another message given the same seq
        assert self.reorder.offer(wrapped) == [data(3), data(4), wrapped]

    def test_a_redelivery_of_a_held_message_is_not_held_twice(self):
        run(self.reorder, self.node, [BIRTH, data(3)])
        assert self.reorder.offer(data(3, dup=True)) == []
        assert self.reorder.waiting() == 1

    def test_holds_are_handed_out_for_saving_once_and_released_ones_for_deleting(self):
        run(self.reorder, self.node, [BIRTH, data(2), data(3)])
        assert self.reorder.take_changes() == HeldChanges(released=[], held=[(("g/e1", 2), data(2)),
                                                                             (("g/e1", 3), data(3))])
        assert not self.reorder.take_changes()  # nothing new
        run(self.reorder, self.node, [data(4), data(1)])  # 4 held, then 1 lets 2, 3 and 4 go
        assert self.node.ingested == [BIRTH, data(1), data(2), data(3), data(4)]
        # 4 was held and let go within the same batch: never saved, nothing to delete for it
        assert self.reorder.take_changes() == HeldChanges(released=[("g/e1", 2), ("g/e1", 3)], held=[])

    def test_saved_holds_restored_wait_again_and_are_deleted_once_ingested(self):
        self.node.next = 1
        self.reorder.restore("g/e1", 2, data(2))
        assert self.reorder.waiting() == 1 and not self.reorder.take_changes()  # in the database already
        run(self.reorder, self.node, [data(1)])
        assert self.node.ingested == [data(1), data(2)]
        assert self.reorder.take_changes() == HeldChanges(released=[("g/e1", 2)], held=[])

    def test_a_death_waits_behind_its_nodes_held_data_and_follows_the_last_of_it(self):
        # given a node whose reports 3 and 4 wait for 2 when its NDEATH comes (the broker delivered them out of order)
        run(self.reorder, self.node, [BIRTH, data(1), data(3), death(), data(4)])
        assert self.node.ingested == [BIRTH, data(1)] and self.reorder.waiting() == 3
        # then report 2 lets 3 and 4 go, and only then the death
        run(self.reorder, self.node, [data(2)])
        assert self.node.ingested == [BIRTH, data(1), data(2), data(3), data(4), death()]
        assert self.reorder.waiting() == 0

    def test_a_waiting_death_goes_after_the_data_the_timeout_lets_go_and_is_saved_until_then(self):
        run(self.reorder, self.node, [BIRTH, data(3), death(), death(dup=True)])  # the copy is not held twice
        assert self.reorder.take_changes().held == [(("g/e1", 3), data(3)), (("g/e1", DEATH_SEQ), death())]
        self.now = 10.0
        assert self.reorder.expired() == [data(3), death()]
        assert self.reorder.take_changes() == HeldChanges(released=[("g/e1", DEATH_SEQ), ("g/e1", 3)], held=[])

    def test_a_saved_death_restored_waits_again_behind_its_nodes_data(self):
        self.node.next = 1
        self.reorder.restore("g/e1", DEATH_SEQ, death())
        self.reorder.restore("g/e1", 2, data(2))
        run(self.reorder, self.node, [data(1)])
        assert self.node.ingested == [data(1), data(2), death()]

    def test_a_death_with_nothing_of_its_node_waiting_passes(self):
        run(self.reorder, self.node, [BIRTH, death()])
        assert self.node.ingested == [BIRTH, death()]

    def test_other_edge_nodes_and_plain_topics_are_not_held(self):
        plain = Sent("tl/org/d1/telemetry", b"{}")
        assert self.reorder.offer(plain) == [plain]
        self.node.next = 7
        assert self.reorder.offer(data(7, edge="e2")) == [data(7, edge="e2")]

    def test_a_redelivery_behind_the_expected_seq_was_ingested_already(self):
        self.node.next = 10
        assert self.reorder.already_ingested(data(8, dup=True))
        assert not self.reorder.already_ingested(data(8))  # not a redelivery: waits, as any early message
        assert not self.reorder.already_ingested(data(10, dup=True))  # the expected one: not seen yet
        self.node.next = 2
        assert self.reorder.already_ingested(data(250, dup=True))  # behind, across the wrap
        assert not self.reorder.already_ingested(data(100, dup=True))  # more than half the seq space away
        self.node.next = None
        assert not self.reorder.already_ingested(data(1, dup=True))  # no session: the tracker decides

    def test_a_message_a_gap_went_past_is_late_not_early_and_its_redelivery_not_stored_already(self):
        # given a node whose seq 5 was let go past as a gap: the tracker expects 9 and knows 5 was skipped
        self.node.next, self.node.skipped = 9, {5}
        # then seq 5 goes on at once, for the tracker to keep as late data, and so does its redelivery
        assert self.reorder.offer(data(5)) == [data(5)] and self.reorder.waiting() == 0
        assert not self.reorder.already_ingested(data(5, dup=True))
        assert self.reorder.already_ingested(data(6, dup=True))  # not skipped: ingested in its turn


async def test_a_node_whose_data_arrives_before_its_births_loses_nothing(world: World, engine: AsyncEngine):
    # given an edge node the bridge has never heard of, whose DDATA and DBIRTH reach it before the NBIRTH
    world.sparkplug(MessageType.DDATA, 2, (Metric(None, 7, DataType.INT64, alias=2),))
    world.sparkplug(MessageType.DBIRTH, 1, (Metric("good_count", 6, DataType.INT64, alias=2),))
    world.sparkplug(MessageType.NBIRTH, 0, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)
    # then all three are taken, in seq order: none refused for want of a birth, the count of 7 stored
    await world.until(lambda: world.bridge.totals["accepted"] >= 3)
    assert world.bridge.totals["no_birth"] == 0 and world.bridge.totals["unknown_device"] == 0
    assert {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"} == {6.0, 7.0}


async def test_data_overtaken_by_its_node_death_is_stored_and_the_device_stays_offline(world: World,
                                                                                        engine: AsyncEngine):
    # given a born node whose last report reaches the bridge after its NDEATH (the broker's will, another topic)
    node_birth(world)
    world.sparkplug(MessageType.NDEATH, None, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)
    world.sparkplug(MessageType.DDATA, 2, (Metric(None, 9, DataType.INT64, alias=2),))
    # then the report is stored, flagged historical, and the device is shown offline
    await world.until(lambda: world.bridge.totals["accepted"] >= 4)
    assert world.bridge.totals["no_birth"] == 0
    assert {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"} >= {9.0}
    assert (await live.online_flags(world.bridge.redis, org_id=world.org_id))[world.lathe_id] is False


async def test_data_waiting_for_its_predecessor_when_its_node_dies_is_stored_before_the_death(world: World,
                                                                                           engine: AsyncEngine):
    async def stored_counts_include(*counts: float) -> bool:
        return {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"} >= set(counts)

    async def let_go() -> bool:  # the reorder timeout let reports 3 and 4 go: stored, or refused
        return world.bridge.totals["no_birth"] >= 2 or await stored_counts_include(13.0, 14.0)

    # given a born node whose reports 3 and 4, then its NDEATH, reach the bridge, and report 2 only after the
    # reorder timeout (the broker delivered them out of order)
    node_birth(world)
    for seq, count in ((3, 13), (4, 14)):
        world.sparkplug(MessageType.DDATA, seq, (Metric(None, count, DataType.INT64, alias=2),))
    world.sparkplug(MessageType.NDEATH, None, (Metric(BD_SEQ, 0, DataType.UINT64),), device=None)
    await world.until(let_go)
    world.sparkplug(MessageType.DDATA, 2, (Metric(None, 12, DataType.INT64, alias=2),))
    # then all three reports are stored (2 as late data), none refused for want of a live session, and the
    # device ends offline
    await world.until(lambda: stored_counts_include(12.0, 13.0, 14.0))
    assert world.bridge.totals["no_birth"] == 0
    assert (await live.online_flags(world.bridge.redis, org_id=world.org_id))[world.lathe_id] is False


async def test_held_data_is_saved_and_acknowledged_so_its_predecessor_comes_and_a_restart_keeps_it(
        world: World, engine: AsyncEngine):
    # given a born node whose reports 3…42 (QoS 1) reach the bridge before report 2: more than the broker keeps
    # in flight to a client unacknowledged (Mosquitto's default: 20)
    await world.running.stop()
    await world.start_new_bridge(iot_reorder_timeout_seconds=60.0)  # no gap by the clock, however slow the run
    node_birth(world)
    await world.until(lambda: world.bridge.totals["accepted"] >= 2)
    for seq in range(3, 43):
        report(world, seq)
    # when all 40 wait, saved (and so acknowledged), and the bridge is replaced by one that remembers nothing
    await world.until(lambda: held_count(engine, world.group, 40))
    await world.running.stop()
    await world.start_new_bridge(iot_reorder_timeout_seconds=60.0)
    report(world, 2)
    # then report 2 lets the restored 40 go, in order: everything stored, no gap, no Rebirth asked for
    await world.until(lambda: held_count(engine, world.group, 0))
    assert {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"} == {
        0.0, *map(float, range(2, 43))}
    assert world.bridge.totals["accepted"] == 41
    assert not [topic for topic, _ in world.received if "/NCMD/" in topic]


def report(world: World, seq: int) -> None:
    payload = Payload(timestamp=now_ms(), seq=seq, metrics=(Metric(None, seq, DataType.INT64, alias=2),))
    world.publish(device_topic(world.group, MessageType.DDATA, world.edge, "lathe-1"), encode_payload(payload), qos=1)


async def held_count(engine: AsyncEngine, group: str, expected: int) -> bool:
    async with engine.connect() as conn:
        held = await conn.scalar(select(func.count()).select_from(HeldMessage).where(HeldMessage.group_id == group))
    return held == expected


async def test_a_message_a_gap_went_past_is_stored_late_by_a_restarted_bridge_without_another_rebirth(
        world: World, engine: AsyncEngine):
    # given a born node whose report 3 is overtaken by report 4 for longer than the reorder timeout
    await world.running.stop()
    await world.start_new_bridge(iot_reorder_timeout_seconds=0.2)
    node_birth(world)
    await world.until(lambda: world.bridge.totals["accepted"] >= 2)
    report(world, 2)
    report(world, 4)
    await world.until(lambda: world.bridge.totals["accepted"] >= 4 and rebirth_requests(world) == 1)
    # when a bridge that remembers nothing but the saved session takes over, and report 3 comes after all
    await world.running.stop()
    await world.start_new_bridge(iot_reorder_timeout_seconds=60.0)
    report(world, 3)
    # then report 3 is stored at once as history (not held a whole timeout), and no second Rebirth is asked for
    await world.until(lambda: world.bridge.totals["accepted"] >= 1)
    assert {value for key, value in await stored(engine, world.lathe_id) if key == "good_count"} == {
        0.0, 2.0, 3.0, 4.0}
    assert rebirth_requests(world) == 1 and world.bridge.totals["already_stored"] == 0


def rebirth_requests(world: World) -> int:
    return len([topic for topic, _ in world.received if "/NCMD/" in topic])
