"""The simulated fleet: its plan covers every type and protocol, it is provisioned through the registry,
and a small fleet really talks over the test broker, pymodbus and asyncua."""

import asyncio
import collections
import json
import threading
import uuid

from sqlalchemy import func, select

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.mqtt import BrokerAddress, close_client
from iot_bridge.models import Device, EdgeNode, Protocol
from iot_bridge.simulator.fleet import plan_fleet, provision_fleet
from iot_bridge.simulator.runner import PORT_SPAN, Fleet, FleetOptions
from iot_bridge.sparkplug import MessageType
from tests.factories import make_org
from tests.iot_bridge.edge.peers import TEST_BROKER, WAIT_LIMIT_S, SparkplugRecorder, unique_group
from tradeloom.identity.roles import OrgKind
from tradeloom.net import free_port, free_port_block


def test_a_few_hundred_devices_cover_every_type_over_every_protocol():
    plan = plan_fleet(300)
    assert collections.Counter(d.protocol for d in plan.devices) == {
        Protocol.SPARKPLUG: 150, Protocol.MQTT_JSON: 60, Protocol.MODBUS: 60, Protocol.OPCUA: 30}
    assert {d.type_code for d in plan.devices} == set(load_device_types())
    assert len({d.code for d in plan.devices}) == 300
    # the 5,000-device benchmark fleet: 25 Sparkplug edge nodes of 100, 5 Modbus servers, 5 OPC UA servers
    nodes = plan_fleet(5000).by_edge_node()
    assert len([n for n in nodes if n.startswith("sp-")]) == 25
    assert max(len(devices) for devices in nodes.values()) == 200


async def test_provisioning_goes_through_the_registry_and_is_idempotent(session):
    # given a supplier and a fleet plan
    supplier = await make_org(session, kind=OrgKind.SUPPLIER)
    plan = plan_fleet(40, group_id=f"g{uuid.uuid4().hex[:8]}")
    # when it is provisioned twice
    assert await provision_fleet(session, org_id=supplier.id, plan=plan) == 40
    assert await provision_fleet(session, org_id=supplier.id, plan=plan) == 0
    # then every device is registered once, hanging off its edge node unless it speaks plain MQTT
    rows = (await session.execute(select(Device.protocol, func.count(), func.count(Device.edge_node_id))
                                  .where(Device.org_id == supplier.id).group_by(Device.protocol))).all()
    assert {(p, n, e) for p, n, e in rows} == {("sparkplug", 20, 20), ("mqtt_json", 8, 0), ("modbus", 8, 8),
                                               ("opcua", 4, 4)}
    assert await session.scalar(select(func.count()).where(EdgeNode.group_id == plan.group_id)) == 3


class JsonRecorder:
    """Hears the plain-MQTT sensors of one organization."""

    def __init__(self, org_id: uuid.UUID) -> None:
        self.documents: list[tuple[str, dict]] = []
        self._arrived = asyncio.Event()
        loop = asyncio.get_running_loop()
        ready = threading.Event()
        self._client = TEST_BROKER.client(f"rec-{uuid.uuid4().hex[:10]}")
        self._client.on_connect = lambda c, u, f, r, p: c.subscribe(f"tl/{org_id}/+/telemetry", qos=1)
        self._client.on_subscribe = lambda *args: ready.set()
        def on_message(client, userdata, message):
            self.documents.append((message.topic.split("/")[2], json.loads(message.payload)))
            loop.call_soon_threadsafe(self._arrived.set)

        self._client.on_message = on_message
        self._client.connect(TEST_BROKER.host, TEST_BROKER.port)
        self._client.loop_start()
        assert ready.wait(10)

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(WAIT_LIMIT_S):
            while len(self.documents) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def close(self) -> None:
        close_client(self._client)


async def test_a_small_fleet_speaks_every_protocol(tmp_path):
    # given a 10-device fleet: 5 Sparkplug devices, 2 JSON sensors, 2 Modbus PLCs, 1 OPC UA machine
    group = unique_group()
    org_id = uuid.uuid4()
    plan = plan_fleet(10, group_id=group)
    recorder = SparkplugRecorder(group)
    sensors = JsonRecorder(org_id)
    fleet = Fleet(plan, FleetOptions(broker=TEST_BROKER, org_id=org_id, rate=5, spool_dir=tmp_path,
                                     base_port=free_port_block(PORT_SPAN), faults=False))
    running = asyncio.create_task(fleet.run())
    try:
        # when it runs, then every Sparkplug-facing device (direct, Modbus and OPC UA) is born and reports
        born = {d.code for d in plan.devices if d.protocol is not Protocol.MQTT_JSON}
        await recorder.wait_for(lambda ms: {m.topic.device_id for m in ms
                                            if m.topic.message_type is MessageType.DDATA} >= born)
        assert {m.topic.edge_node_id for m in recorder.of(MessageType.NBIRTH)} == {"sp-001", "modbus-001",
                                                                                  "opcua-001"}
        # and the JSON sensors count their messages from 1 with no gap
        await sensors.wait_for(6)
        per_sensor = collections.defaultdict(list)
        for code, document in sensors.documents:
            per_sensor[code].append(document["seq"])
        assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_sensor.values())
        assert set(per_sensor) == {d.code for d in plan.of(Protocol.MQTT_JSON)}
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        recorder.close()
        sensors.close()
    # then what the simulator says it sent covers exactly the Sparkplug and JSON devices
    assert set(fleet.stats.sent) == {d.code for d in plan.devices if d.protocol in (Protocol.SPARKPLUG,
                                                                                      Protocol.MQTT_JSON)}
    assert not fleet.stats.held_back  # the broker acknowledged every JSON report before the sensors stopped


async def test_json_reports_no_broker_acknowledged_are_held_back_not_sent(tmp_path):
    """What a sensor still holds at the stop never reached the platform: the bench must not count it as lost."""
    plan = plan_fleet(10, group_id=unique_group())
    nowhere = BrokerAddress("127.0.0.1", free_port())  # nothing listens: no report is ever acknowledged
    fleet = Fleet(plan, FleetOptions(broker=nowhere, org_id=uuid.uuid4(), rate=5, spool_dir=tmp_path,
                                     base_port=free_port_block(PORT_SPAN), faults=False))
    running = asyncio.create_task(fleet.run())
    sensors = {d.code for d in plan.of(Protocol.MQTT_JSON)}
    async with asyncio.timeout(WAIT_LIMIT_S):
        while not sensors <= set(fleet.stats.sent):  # noqa: ASYNC110 - the fleet's counters, no event
            await asyncio.sleep(0.05)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert fleet.stats.held_back == collections.Counter({code: fleet.stats.sent[code] for code in sensors})
