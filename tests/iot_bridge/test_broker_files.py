"""``tradeloom iot-bridge broker-files`` enforced by a real Mosquitto: who may sign in, and publish where."""

import shutil
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from iot_bridge.credentials import hash_mqtt_password
from iot_bridge.models import Device, EdgeNode, Protocol
from iot_bridge.plain_topics import TopicKind, plain_topic
from iot_bridge.service_main import write_broker_files
from loadtest.iot_processes import Mosquitto
from tests.conftest import truncate_all
from tests.factories import make_org
from tradeloom.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")

SECRETS = {"bridge": "bridge-secret", "edge": "edge-secret", "sensor": "sensor-secret"}


class Client:
    """A paho client that records whether the broker let it in and what it received."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.answered, self.received = threading.Event(), list[tuple[str, bytes]]()
        self.accepted, self._acknowledged, self._acks = False, set[int](), threading.Condition()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{username}-{uuid.uuid4().hex[:6]}")
        self._client.username_pw_set(username, password)
        self._client.on_connect = self._connected
        self._client.on_message = lambda _c, _u, message: self.received.append((message.topic, message.payload))
        self._client.on_publish = self._acknowledge
        self._client.connect_async("127.0.0.1", port)
        self._client.loop_start()
        self.answered.wait(10)

    def _connected(self, _client: mqtt.Client, _userdata: object, _flags: object, reason: mqtt.ReasonCode,
                   _props: object) -> None:
        self.accepted = not reason.is_failure
        self.answered.set()

    def subscribe(self, topic: str) -> None:
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.subscribe(topic, 1)
        assert subscribed.wait(10)

    def _acknowledge(self, _client: mqtt.Client, _userdata: object, mid: int, _reason: mqtt.ReasonCode,
                     _props: object) -> None:
        with self._acks:
            self._acknowledged.add(mid)
            self._acks.notify_all()

    def publish(self, topic: str, *, qos: int = 1) -> None:
        """QoS 0 for a topic the ACL forbids: Mosquitto 2.0 answers a refused QoS 1 publish with a PUBACK
        carrying an MQTT 5 reason code, and paho (MQTT 3.1.1) drops the connection over it.

        Mosquitto 2.0.11 also closes the connection after a refused QoS 0 publish (MQTT 3.1.1 allows that,
        [MQTT-3.3.5-2]). A QoS 1 message published before paho has reconnected stays in paho's queue and is
        sent once it has: so this waits for the broker's PUBACK, not for the first attempt to go out."""
        info = self._client.publish(topic, b'{"ts": 1, "values": {}}', qos=qos)
        if qos:
            with self._acks:
                assert self._acks.wait_for(lambda: info.mid in self._acknowledged, 10)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
async def registry(engine: AsyncEngine) -> AsyncIterator[tuple[uuid.UUID, str]]:
    """An organization with an edge node and a plain MQTT sensor, committed (the command reads on its own)."""
    async with async_sessionmaker(engine)() as session, session.begin():
        org = await make_org(session)
        group = f"g{uuid.uuid4().hex[:8]}"
        session.add_all([
            EdgeNode(org_id=org.id, group_id=group, edge_node_id="edge-1", name="Edge", mqtt_username=f"edge.{group}",
                     mqtt_password_hash=hash_mqtt_password(SECRETS["edge"])),
            Device(org_id=org.id, code="th-1", name="Sensor", type_code="temperature_humidity_sensor",
                   protocol=Protocol.MQTT_JSON.value, lifecycle="active", desired_attributes={},
                   reported_attributes={}, mqtt_username=f"dev.{org.id}.th-1",
                   mqtt_password_hash=hash_mqtt_password(SECRETS["sensor"])),
        ])
        org_id = org.id
    yield org_id, group
    await truncate_all(engine)


async def test_the_bridge_devices_and_edge_nodes_sign_in_and_publish_only_their_own_topics(
    registry: tuple[uuid.UUID, str], test_settings: Settings, tmp_path: Path
):
    org_id, group = registry
    broker = Mosquitto(tmp_path, credentials=tmp_path)
    settings = test_settings.model_copy(update={"mqtt_url": f"mqtt://bridge:{SECRETS['bridge']}@127.0.0.1:{broker.port}"})
    await write_broker_files(settings, tmp_path)
    broker.start()
    clients = []
    try:
        bridge = Client(broker.port, "bridge", SECRETS["bridge"])
        sensor = Client(broker.port, f"dev.{org_id}.th-1", SECRETS["sensor"])
        edge = Client(broker.port, f"edge.{group}", SECRETS["edge"])
        intruder = Client(broker.port, f"dev.{org_id}.th-1", "guess")
        clients = [bridge, sensor, edge, intruder]
        assert [c.accepted for c in clients] == [True, True, True, False]
        bridge.subscribe("#")
        own, other = plain_topic(org_id, "th-1", TopicKind.TELEMETRY), plain_topic(org_id, "th-2", TopicKind.TELEMETRY)
        edge_data = f"spBv1.0/{group}/NDATA/edge-1"
        # The broker drops what the ACL forbids. Each client's messages keep their order, so a forbidden one
        # that got through would be in ``received`` before that client's allowed one.
        sensor.publish(other, qos=0)
        sensor.publish(own)
        edge.publish("spBv1.0/other/NDATA/edge-1", qos=0)
        edge.publish(edge_data)
        for _ in range(100):
            if {own, edge_data} <= {topic for topic, _ in bridge.received}:
                break
            threading.Event().wait(0.1)
        assert [topic for topic, _ in bridge.received] in ([own, edge_data], [edge_data, own])
    finally:
        for client in clients:
            client.close()
        broker.stop()
