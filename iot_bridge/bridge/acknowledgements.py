"""PUBACKs in the order the broker delivered the messages, though the shards finish their batches in any order.

MQTT 3.1.1 asks a client to acknowledge QoS 1 messages in the order they came [MQTT-4.6.0-2]. Each shard
commits its batch on its own; acknowledged batch by batch as they committed, the PUBACKs went out of order,
and Mosquitto 2.0.11 then sent one publisher's later messages ahead of earlier ones, by up to hundreds of
messages (``python -m loadtest.broker_order``: none out of 60,000 when one shard acknowledges, thousands
when four do). Sparkplug data came after its node's death and JSON reports after their successors, and
some were lost (decision 0034). Now a message is acknowledged once it and every message delivered before it
on the same connection are done.

Messages of an earlier connection are never acknowledged: the broker sends them again on the new one, where
their old packet identifiers may by now name other messages (decision 0032).
"""

from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol


class Delivered(Protocol):
    @property
    def mid(self) -> int: ...

    @property
    def qos(self) -> int: ...

    @property
    def connection(self) -> int: ...

    @property
    def delivery(self) -> int: ...


class InOrderAcknowledgements:
    """The bridge's QoS 1 messages from delivery to PUBACK; all calls on the bridge's event loop."""

    def __init__(self, send: Callable[[int, int], None]) -> None:
        self._send = send  # (packet identifier, QoS) → a PUBACK on the current connection
        self._waiting: deque[Delivered] = deque()  # delivered, not yet acknowledged, in delivery order
        self._done: set[int] = set()  # deliveries done while one before them is not
        self._settled_through = 0  # every delivery up to this one is acknowledged or given up

    def delivered(self, message: Delivered) -> None:
        """In the order paho handed the messages over."""
        if message.qos > 0:
            self._waiting.append(message)

    def done(self, messages: Iterable[Delivered], connection: int) -> None:
        """These are ingested (or held, saved) and committed: acknowledge what is done up to the first that
        is not, on ``connection`` (the current one)."""
        self._done.update(m.delivery for m in messages if m.qos > 0 and m.delivery > self._settled_through)
        waiting = self._waiting
        while waiting and (waiting[0].connection != connection or waiting[0].delivery in self._done):
            first = waiting.popleft()
            self._done.discard(first.delivery)
            self._settled_through = first.delivery
            if first.connection == connection:
                self._send(first.mid, first.qos)

    def waiting(self) -> int:
        return len(self._waiting)
