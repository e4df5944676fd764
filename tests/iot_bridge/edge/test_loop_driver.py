"""A paho client driven from the asyncio loop (``LoopDriver``), against the test broker through a relay."""

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator

import paho.mqtt.client as mqtt
import pytest

from iot_bridge.edge.mqtt import BrokerAddress, LoopDriver, close_client, published
from tests.iot_bridge.edge.peers import TEST_BROKER, TcpRelay, eventually


class Listener:
    """A client on the loop that records what arrives under one topic prefix, and on which thread."""

    def __init__(self, prefix: str, broker: BrokerAddress = TEST_BROKER) -> None:
        self.prefix = prefix
        self.received: list[tuple[str, bytes]] = []
        self.threads: set[int] = set()
        self.subscribed = asyncio.Event()
        client = broker.client(f"listen-{uuid.uuid4().hex[:10]}")
        client.on_connect = lambda c, u, f, r, p: c.subscribe(f"{prefix}/#", qos=1)
        client.on_subscribe = lambda *args: self.subscribed.set()
        client.on_message = self._on_message
        self.driver = LoopDriver(client, broker)

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        self.threads.add(threading.get_ident())
        self.received.append((message.topic, message.payload))

    def topics(self) -> list[str]:
        return [topic for topic, _ in self.received]


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """Subscribed to a prefix of its own on the test broker."""
    listener = Listener(f"test-{uuid.uuid4().hex[:12]}")
    await asyncio.wait_for(listener.subscribed.wait(), 10)
    yield listener
    await listener.driver.stop()


async def test_a_client_waits_for_its_broker_without_stalling_the_loop_and_reconnects_after_a_cut(
    listener: Listener,
) -> None:
    prefix = listener.prefix
    relay = TcpRelay()  # not open yet: nothing listens on its port
    client = relay.address.client(f"driven-{uuid.uuid4().hex[:10]}")
    connects: list[int] = []
    client.on_connect = lambda c, u, f, reason, p: connects.append(threading.get_ident())
    driver = LoopDriver(client, relay.address)
    try:
        # given a broker that is not there: the loop goes on meanwhile (ticks every 10 ms for 1.5 s)
        ticks = 0
        for _ in range(150):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 150 and connects == [] and not client.is_connected()
        # when the broker comes, then the client connects, its callbacks on the loop's thread
        await relay.open()
        await eventually(client.is_connected)
        assert connects == [threading.get_ident()]
        assert await published(client.publish(f"{prefix}/first", b"1", qos=1), 10)
        # when the line is cut, then it connects again by itself and publishes on
        relay.cut()
        await eventually(lambda: not client.is_connected())
        await eventually(lambda: len(connects) == 2)
        assert await published(client.publish(f"{prefix}/second", b"2", qos=1), 10)
        await eventually(lambda: listener.topics() == [f"{prefix}/first", f"{prefix}/second"])
        assert listener.threads == {threading.get_ident()}
    finally:
        await driver.stop()
        await relay.close()


async def test_a_stopped_client_says_goodbye_and_its_will_stays_unsent_but_a_cut_one_leaves_its_will(
    listener: Listener,
) -> None:
    prefix = listener.prefix
    relay = TcpRelay()
    await relay.open()
    drivers = {}
    for name, broker in (("stopped", TEST_BROKER), ("cut", relay.address)):
        client = broker.client(f"{name}-{uuid.uuid4().hex[:10]}")
        client.will_set(f"{prefix}/will/{name}", b"gone", qos=1)
        drivers[name] = LoopDriver(client, broker)
    try:
        await eventually(lambda: all(d.client.is_connected() for d in drivers.values()))
        # when one is stopped (DISCONNECT) and then the other's line is cut
        await drivers["stopped"].stop()
        assert drivers["stopped"].client.socket() is None
        relay.cut()
        # then only the cut one's will is published
        await eventually(lambda: f"{prefix}/will/cut" in listener.topics())
        assert listener.topics() == [f"{prefix}/will/cut"]
    finally:
        for driver in drivers.values():
            await driver.stop()
        await relay.close()


async def test_what_arrived_together_is_handed_over_in_one_turn_of_the_loop(listener: Listener) -> None:
    # given a listener whose loop is busy while 200 messages reach its socket (QoS 0: no in-flight window)
    seen_by_next_turn: list[int] = []
    record = listener.driver.client.on_message

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if not listener.received:  # the first of the burst: how many are in once the loop turns again
            asyncio.get_running_loop().call_soon(lambda: seen_by_next_turn.append(len(listener.received)))
        record(client, userdata, message)

    listener.driver.client.on_message = on_message
    publisher = TEST_BROKER.client(f"burst-{uuid.uuid4().hex[:10]}")  # paho's own thread: it sends meanwhile
    publisher.connect(TEST_BROKER.host, TEST_BROKER.port)
    publisher.loop_start()
    try:
        infos = [publisher.publish(f"{listener.prefix}/burst", str(n).encode(), qos=0) for n in range(200)]
        infos[-1].wait_for_publish(10)
        time.sleep(0.5)  # noqa: ASYNC251 - the point: the loop is busy while the broker forwards them
        # when the loop gets to the socket, then the whole burst is read in that one turn
        await eventually(lambda: len(listener.received) == 200)
        assert seen_by_next_turn == [200]
    finally:
        close_client(publisher)
