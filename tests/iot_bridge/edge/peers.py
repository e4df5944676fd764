"""Real peers for the edge tests: a Sparkplug recorder on the test broker, a TCP relay that can cut the line."""

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from iot_bridge.edge.agent import EdgeAgent
from iot_bridge.edge.mqtt import BrokerAddress
from iot_bridge.sparkplug import AliasTable, MessageType, Payload, SparkplugTopic, decode_payload, parse_topic
from tradeloom.net import free_port

TEST_BROKER = BrokerAddress.from_url(os.environ["TRADELOOM_TEST_MQTT_URL"])  # set by tests/conftest.py
WAIT_LIMIT_S = 30  # a failure bound only: a passing test never waits for it


def unique_group() -> str:
    """The broker is shared by every test (and maybe other helpers): each test publishes under its own group."""
    return f"test-{uuid.uuid4().hex[:12]}"


@contextlib.asynccontextmanager
async def running(agent: EdgeAgent) -> AsyncIterator[EdgeAgent]:
    """The agent runs for the block, then is cancelled (NDEATH, spool kept)."""
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait for state that no message announces (PUBACKs emptying a spool); bounded like ``wait_for``."""
    async with asyncio.timeout(WAIT_LIMIT_S):
        while not condition():  # noqa: ASYNC110 - paho's thread changes it: no event to await
            await asyncio.sleep(0.02)


@dataclass(frozen=True)
class Received:
    topic: SparkplugTopic
    payload: Payload

    def values(self) -> dict[str, object]:
        return {m.name: m.value for m in self.payload.metrics if m.name is not None}


class SparkplugRecorder:
    """Subscribes to one Sparkplug group like a host application would and decodes what arrives."""

    def __init__(self, group_id: str, broker: BrokerAddress = TEST_BROKER) -> None:
        self.group_id = group_id
        self.messages: list[Received] = []
        self._aliases: dict[str, AliasTable] = {}
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self._client = broker.client(f"rec-{uuid.uuid4().hex[:10]}")
        self._client.on_connect = lambda c, u, f, r, p: c.subscribe(f"spBv1.0/{group_id}/#", qos=1)
        self._client.on_subscribe = lambda *args: subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the recorder could not subscribe")

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        topic = parse_topic(message.topic)
        key = f"{topic.edge_node_id}/{topic.device_id}"
        with self._lock:
            if topic.message_type in (MessageType.NBIRTH, MessageType.DBIRTH):
                payload = decode_payload(message.payload)
                self._aliases[key] = AliasTable.from_birth(payload)
            else:
                payload = decode_payload(message.payload, self._aliases.get(key))
            self.messages.append(Received(topic, payload))
        self._loop.call_soon_threadsafe(self._changed.set)

    async def wait_for(self, condition: Callable[[list[Received]], bool]) -> list[Received]:
        """Wait until ``condition(messages)`` holds (bounded, so a broken agent fails instead of hanging)."""
        async with asyncio.timeout(WAIT_LIMIT_S):
            while True:
                with self._lock:
                    snapshot = list(self.messages)
                if condition(snapshot):
                    return snapshot
                self._changed.clear()
                await self._changed.wait()

    def of(self, message_type: MessageType, device_id: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic.message_type is message_type
                    and (device_id is None or m.topic.device_id == device_id)]

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class TcpRelay:
    """Forwards a local port to the broker; ``cut`` drops every connection, ``close`` stops listening.

    Lets a test take the broker away from an edge node and give it back without touching the shared
    broker.
    """

    def __init__(self, target: BrokerAddress = TEST_BROKER) -> None:
        self.port = free_port()
        self.target = target
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress("127.0.0.1", self.port)

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.cut()

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.target.host, self.target.port)
        self._writers |= {writer, upstream_writer}
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
