"""Store and forward through a real broker outage: nothing produced while the broker is away is lost."""

import asyncio
import uuid

import pytest

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.node import SparkplugEdgeNode
from iot_bridge.edge.spool import Spool
from iot_bridge.sparkplug import DataType, MessageType, Metric, state_payload, state_topic
from tests.iot_bridge.edge.peers import TEST_BROKER, SparkplugRecorder, TcpRelay, eventually, unique_group

LATHE = {"state": "run", "good_count": 0, "spindle_speed": 1200.0}


async def no_command(command, params):
    raise AssertionError("no command in this test")


def counts_received(recorder: SparkplugRecorder) -> list[int]:
    return [m.values()["good_count"] for m in recorder.of(MessageType.DDATA, "lathe-01")
            if "good_count" in m.values()]


@pytest.fixture
async def relay():
    relay = TcpRelay()
    yield relay
    await relay.close()


async def test_outage_is_replayed_as_historical_data_and_a_cut_loses_nothing(relay, tmp_path):
    # given an edge node whose broker is not there yet (nothing listens on the relay's port)
    group = unique_group()
    recorder = SparkplugRecorder(group)
    spool = Spool(tmp_path / "spool.sqlite")
    node = SparkplugEdgeNode(group_id=group, edge_node_id="edge-1", broker=relay.address, spool=spool)
    node.add_device("lathe-01", load_device_types()["cnc_lathe"], no_command)
    await node.start()
    node.device_online("lathe-01", LATHE)

    # when the lathe makes 300 parts during the outage
    for count in range(1, 301):
        node.device_data("lathe-01", {"good_count": count}, timestamp_ms=1_700_000_000_000 + count)
    # then every count waits in the spool
    assert spool.pending_count() == 300

    # when the broker becomes reachable
    await relay.open()
    await recorder.wait_for(lambda ms: len(counts_received(recorder)) >= 300)
    # then the node is born and every spooled count arrives, in order, flagged historical, with its own time
    replayed = recorder.of(MessageType.DDATA, "lathe-01")
    assert counts_received(recorder) == list(range(1, 301))
    assert all(m.payload.metrics[0].is_historical for m in replayed)
    assert [m.payload.metrics[0].timestamp for m in replayed][:2] == [1_700_000_000_001, 1_700_000_000_002]
    assert recorder.of(MessageType.NBIRTH)[0].values()["bdSeq"] == 0
    await eventually(lambda: spool.pending_count() == 0)

    # when the line is cut while live data flows, then restored
    for count in range(301, 601):
        node.device_data("lathe-01", {"good_count": count})
        if count == 400:
            relay.cut()
    await recorder.wait_for(lambda ms: set(range(1, 601)) <= set(counts_received(recorder)))
    # then the broker told the host the old session died, a new session was born with the next bdSeq,
    # and every count arrived at least once (those in flight at the cut may come twice)
    await recorder.wait_for(lambda ms: len(recorder.of(MessageType.NBIRTH)) == 2)
    await recorder.wait_for(lambda ms: recorder.of(MessageType.NDEATH))
    assert recorder.of(MessageType.NDEATH)[0].values() == {"bdSeq": 0}
    assert recorder.of(MessageType.NBIRTH)[1].values()["bdSeq"] == 1
    await eventually(lambda: spool.pending_count() == 0)
    assert node.counters.sessions == 2
    assert node.counters.replayed > 300  # what the cut left unacknowledged went again

    await node.stop()
    spool.close()
    recorder.close()


async def test_spool_keeps_bd_seq_and_messages_across_restarts(tmp_path):
    # given a spool with a message and a used bdSeq
    spool = Spool(tmp_path / "spool.sqlite")
    assert spool.next_bd_seq() == 0
    spool.add("d1", 5, (Metric(name="good_count", value=3, datatype=DataType.INT64, timestamp=5),))
    spool.close()
    # when the agent restarts
    reopened = Spool(tmp_path / "spool.sqlite")
    # then the next session gets the next bdSeq and the message is still pending
    assert reopened.next_bd_seq() == 1
    (message,) = list(reopened.pending())
    assert (message.device_id, message.timestamp_ms, message.metrics[0].value) == ("d1", 5, 3)
    reopened.acknowledge(message.id)
    assert reopened.pending_count() == 0
    reopened.close()


async def test_with_a_primary_host_data_waits_in_the_spool_while_the_host_is_offline(tmp_path):
    # given a node that follows a primary host's STATE (retained, as the host publishes it)
    group, host = unique_group(), f"host-{uuid.uuid4().hex[:8]}"
    recorder = SparkplugRecorder(group)
    spool = Spool(tmp_path / "spool.sqlite")
    node = SparkplugEdgeNode(group_id=group, edge_node_id="edge-1", broker=TEST_BROKER, spool=spool,
                             primary_host_id=host)
    node.add_device("lathe-01", load_device_types()["cnc_lathe"], no_command)
    node.device_online("lathe-01", LATHE)
    recorder.publish(state_topic(host), state_payload(online=False, timestamp=1), retain=True)
    try:
        await node.start()
        # when it reports while the host is offline, then nothing is published: it waits in the spool
        for count in range(1, 51):
            node.device_data("lathe-01", {"good_count": count})
        await eventually(lambda: node.counters.sessions == 1)
        assert not node.live and spool.pending_count() == 50
        # when the host comes online, then births and every spooled count, as historical data
        recorder.publish(state_topic(host), state_payload(online=True, timestamp=2), retain=True)
        await recorder.wait_for(lambda ms: counts_received(recorder) == list(range(1, 51)))
        # when the host goes offline again (its will), new data stays at the edge until it is back
        recorder.publish(state_topic(host), state_payload(online=False, timestamp=3), retain=True)
        await eventually(lambda: not node.live)
        node.device_data("lathe-01", {"good_count": 51})
        recorder.publish(state_topic(host), state_payload(online=True, timestamp=4), retain=True)
        await recorder.wait_for(lambda ms: 51 in counts_received(recorder))
        assert len(recorder.of(MessageType.NBIRTH)) == 2
        assert recorder.of(MessageType.DDATA, "lathe-01")[-1].payload.metrics[0].is_historical
    finally:
        recorder.publish(state_topic(host), b"", retain=True)  # clear the retained STATE on the shared broker
        await node.stop()
        spool.close()
        recorder.close()


async def test_a_burst_is_committed_once_and_only_then_published(tmp_path):
    # given a live edge node
    group = unique_group()
    recorder = SparkplugRecorder(group)
    spool = Spool(tmp_path / "spool.sqlite")
    node = SparkplugEdgeNode(group_id=group, edge_node_id="edge-1", broker=TEST_BROKER, spool=spool)
    node.add_device("lathe-01", load_device_types()["cnc_lathe"], no_command)
    node.device_online("lathe-01", LATHE)
    other_reader = Spool(tmp_path / "spool.sqlite")
    try:
        await node.start()
        await eventually(lambda: node.live)
        # when the lathe reports 100 times in one turn of the event loop
        for count in range(1, 101):
            node.device_data("lathe-01", {"good_count": count})
        # then nothing has left yet, and nothing is on disk for another reader: one transaction is open
        assert node.counters.data_published == 0
        assert other_reader.pending_count() == 0
        # when the turn ends, then the burst is committed and only then published, in order
        await asyncio.sleep(0)
        assert node.counters.data_published == 100
        await recorder.wait_for(lambda ms: counts_received(recorder) == list(range(1, 101)))
        await eventually(lambda: other_reader.pending_count() == 0)  # acknowledged, deleted, committed
    finally:
        await node.stop()
        other_reader.close()
        spool.close()
        recorder.close()


async def test_a_node_stopped_in_a_burst_leaves_its_spool_consistent_for_its_owner_to_close(tmp_path):
    # given a node that stops right after a burst of readings, while their PUBACKs are still coming
    errors: list[dict] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
    group = unique_group()
    spool = Spool(tmp_path / "spool.sqlite")
    node = SparkplugEdgeNode(group_id=group, edge_node_id="edge-1", broker=TEST_BROKER, spool=spool)
    node.add_device("lathe-01", load_device_types()["cnc_lathe"], no_command)
    node.device_online("lathe-01", LATHE)
    await node.start()
    await eventually(lambda: node.live)
    for count in range(1, 501):
        node.device_data("lathe-01", {"good_count": count})
    # when it stops and its owner closes the spool at once, and the loop goes on
    await node.stop()
    left = spool.pending_count()
    spool.close()
    for _ in range(20):
        await asyncio.sleep(0.01)
    # then nothing scheduled before touched the closed spool, and what the broker acknowledged had left it
    assert errors == []
    assert left < 500
