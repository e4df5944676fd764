"""The benchmark's broker keeps every in-flight QoS 1 message's packet identifier unique (decision 0029).

MQTT packet identifiers are 16-bit. With no inflight limit (``max_inflight_messages 0``), Mosquitto 2.0 sends
more than 65,535 messages to a subscriber that acknowledges none, reusing identifiers still in flight, so an
acknowledgement no longer says which message it is for.
"""

import shutil
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from loadtest.iot_bridge_cpu import publish
from loadtest.iot_processes import INFLIGHT, Mosquitto

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")

PACKET_IDS = 65_535


def _subscriber(port: int, received: list[int], subscribed: threading.Event) -> mqtt.Client:
    """A persistent session that takes every message and acknowledges none (a bridge far behind)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="behind", clean_session=False,
                         manual_ack=True)
    client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe("t/#", 1)
    client.on_subscribe = lambda *_: subscribed.set()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        received.append(message.mid)

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def test_no_packet_identifier_is_in_flight_twice_when_the_subscriber_falls_behind(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    received: list[int] = []
    subscribed = threading.Event()
    subscriber = _subscriber(broker.port, received, subscribed)
    try:
        assert subscribed.wait(10)
        publish(broker.port, [(f"t/{index % 4}", b"x") for index in range(PACKET_IDS + 5_000)])
        _wait_until_still(received)
        assert len(set(received)) == len(received)  # every message in flight has its own identifier
        assert len(received) == INFLIGHT  # the rest waits in the broker's queue
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
        broker.stop()


def _wait_until_still(received: list[int], limit_s: float = 60) -> None:
    """Until no message came for half a second."""
    deadline, count = time.monotonic() + limit_s, -1
    while count != len(received) and time.monotonic() < deadline:
        count = len(received)
        time.sleep(0.5)
