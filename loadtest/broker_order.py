"""Does the broker keep one publisher's QoS 1 messages in order for a subscriber that falls behind?

    python -m loadtest.broker_order --autosave 2 60 --shards 1 4 --rounds 3
    python -m loadtest.broker_order --broker mqtt://emqx.internal:1883

MQTT 3.1.1 (4.6) asks a server to send a client's messages on one topic to each subscriber in the order it
received them. The bridge leans on that order: its Sparkplug reorder buffer waits a bounded time for a missing
seq, and it recognises a redelivered JSON report by its seq. This starts a private Mosquitto configured as the
IoT bench's (persistence, no limit on queued messages, 2,000 in flight, the autosave interval asked for), four
publishers of numbered QoS 1 messages over seven topics each, and a persistent subscriber that acknowledges
more slowly than they publish (a backlog builds), batch by batch from four shards, out of delivery order, as
the bridge does. It counts, per publisher and per topic, the messages that arrived after a later one.
With ``--broker`` it checks that broker instead (its own configuration; the autosave option does not apply).
"""

import argparse
import random
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from iot_bridge.edge.mqtt import BrokerAddress, close_client
from loadtest.iot_processes import Mosquitto

PUBLISHERS = 4
TOPICS_PER_PUBLISHER = 7
BATCH = 100  # messages a shard takes and acknowledges at once
MESSAGES_PER_PUBLISHER = 15_000
QUIET_S = 15
Overtaken = list[tuple[int, int]]  # per sender: (messages that arrived after a later one, farthest back)


@dataclass
class Arrivals:
    """What the subscriber received, in arrival order: per publisher, and per topic."""

    by_publisher: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_topic: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    count: int = 0

    def add(self, topic: str, payload: bytes) -> None:
        publisher, number = (int(part) for part in payload.split(b":"))
        self.by_publisher[publisher].append(number)
        self.by_topic[topic].append(number)
        self.count += 1


def overtaken(numbers: list[int]) -> tuple[int, int]:
    """How many messages arrived after a later one of the same sender, and the farthest back one came."""
    count, farthest, highest = 0, 0, -1
    for number in numbers:
        if number < highest:
            count, farthest = count + 1, max(farthest, highest - number)
        highest = max(highest, number)
    return count, farthest


def slow_subscriber(broker: BrokerAddress, prefix: str, arrivals: Arrivals, stop: threading.Event,
                    shard_count: int) -> mqtt.Client:
    """A persistent session taking everything; shards acknowledge their batches at random intervals."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-check", clean_session=False,
                         protocol=mqtt.MQTTv311, manual_ack=True)
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    shards: list[deque[mqtt.MQTTMessage]] = [deque() for _ in range(shard_count)]

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        arrivals.add(message.topic, message.payload)
        shards[hash(message.topic) % shard_count].append(message)

    def acknowledge(shard: deque[mqtt.MQTTMessage]) -> None:
        while not stop.is_set():
            time.sleep(random.uniform(0.02, 0.15))  # noqa: S311 - timing jitter, not security
            for _ in range(min(BATCH, len(shard))):
                message = shard.popleft()
                client.ack(message.mid, message.qos)

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(f"{prefix}/#", qos=1)
    for shard in shards:
        threading.Thread(target=acknowledge, args=(shard,), daemon=True).start()
    return client


def publish_all(broker: BrokerAddress, prefix: str) -> None:
    publishers = [broker.client(f"{prefix}-publisher-{index}") for index in range(PUBLISHERS)]
    for client in publishers:
        client.connect(broker.host, broker.port)
        client.loop_start()
    last: list[mqtt.MQTTMessageInfo] = []
    for number in range(MESSAGES_PER_PUBLISHER):
        last = [client.publish(f"{prefix}/{index}/{number % TOPICS_PER_PUBLISHER}", f"{index}:{number}", qos=1)
                for index, client in enumerate(publishers)]
        if number % 500 == 0:
            time.sleep(0.05)
    for client, info in zip(publishers, last, strict=True):
        info.wait_for_publish(timeout=120)  # the broker has them all (it acknowledges in order): paho may go
        close_client(client)


def wait_for_the_rest(arrivals: Arrivals) -> None:
    """Until every message arrived, or none for ``QUIET_S`` (a broker that drops what its queue cannot hold)."""
    last, quiet_since = -1, time.monotonic()
    while arrivals.count < PUBLISHERS * MESSAGES_PER_PUBLISHER and time.monotonic() - quiet_since < QUIET_S:
        if arrivals.count != last:
            last, quiet_since = arrivals.count, time.monotonic()
        time.sleep(0.5)


@contextmanager
def broker_to_check(url: str | None, autosave_s: int) -> Iterator[BrokerAddress]:
    """The broker at ``url``, or a private Mosquitto configured as the IoT bench's."""
    if url is not None:
        yield BrokerAddress.from_url(url)
        return
    with tempfile.TemporaryDirectory(prefix="tl-order-") as folder:
        broker = Mosquitto(Path(folder), autosave_s)
        broker.start()
        try:
            yield broker.address
        finally:
            broker.stop()


def one_round(broker: BrokerAddress, shard_count: int) -> tuple[int, Overtaken, Overtaken]:
    """Messages received, and (out of order, farthest back) per publisher and per topic."""
    prefix = f"tl-order-{uuid.uuid4().hex[:8]}"  # a session and topics of its own on a shared broker
    arrivals, stop = Arrivals(), threading.Event()
    subscriber = slow_subscriber(broker, prefix, arrivals, stop, shard_count)
    try:
        publish_all(broker, prefix)
        wait_for_the_rest(arrivals)
    finally:
        stop.set()
        subscriber.unsubscribe(f"{prefix}/#")
        close_client(subscriber)
    return (arrivals.count, [overtaken(numbers) for numbers in arrivals.by_publisher.values()],
            [overtaken(numbers) for numbers in arrivals.by_topic.values()])


def table_row(shard_count: int, autosave: str, outcome: tuple[int, Overtaken, Overtaken]) -> str:
    count, by_publisher, by_topic = outcome
    return (f"| {shard_count} | {autosave} | {count:,} of {PUBLISHERS * MESSAGES_PER_PUBLISHER:,} "
            f"| {sum(c for c, _ in by_publisher)} | {sum(c for c, _ in by_topic)} "
            f"| {max((f for _, f in by_publisher), default=0)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", help="mqtt://[user:password@]host:port of a broker to check (default: a "
                        "private Mosquitto)")
    parser.add_argument("--autosave", type=int, nargs="+", default=[2, 60],
                        help="the broker's autosave_interval in seconds, one series of rounds each")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 4],
                        help="how many shards acknowledge (1: in delivery order), one series of rounds each")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    print("| shards acknowledging | autosave | received | arrived after a later one: same publisher | same topic "
          "| farthest back (messages) |\n|---|---|---|---|---|---|")
    for shard_count in arguments.shards:
        for autosave_s in [None] if arguments.broker else arguments.autosave:
            for _ in range(arguments.rounds):
                with broker_to_check(arguments.broker, autosave_s or 0) as broker:
                    outcome = one_round(broker, shard_count)
                print(table_row(shard_count, "—" if autosave_s is None else f"{autosave_s} s", outcome), flush=True)


if __name__ == "__main__":
    main()
