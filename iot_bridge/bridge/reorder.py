"""Sparkplug messages of one edge node put back in ``seq`` order before the tracker sees them.

MQTT keeps order per topic only: a broker working through a backlog for the bridge has delivered an edge
node's DDATA seconds before the NBIRTH published ahead of it (another topic), and the data was refused as
``no_birth`` and lost. Sparkplug 3.0 gives the host application a *reorder timeout* for this: a message whose
``seq`` is not the one expected waits until the missing ones arrive, or until the timeout
(``TRADELOOM_IOT_REORDER_TIMEOUT_SECONDS``, 10 s), after which it goes on as it is (the tracker then sees
the gap and asks for a Rebirth, or refuses it without a birth).

A waiting message is neither ingested nor acknowledged, so a crash meanwhile gets it again from the broker.
That redelivery carries MQTT's DUP flag, as does every message the broker sends again after a reconnect;
one whose seq lies behind the expected one was ingested already (its batch was committed, with the saved
session, before the crash; or its first copy was still queued at the bridge over a broker restart) and is
only acknowledged: held, it would come back after the timeout as a seq gap and set off a Rebirth.
Births and deaths (NBIRTH carries seq 0, NDEATH none) and plain-MQTT messages pass straight through; after
each message the held ones that are now next follow it.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import DecodeError

from iot_bridge.sparkplug import sparkplug_b_pb2 as pb

SEQ_SPACE = 256  # Sparkplug's seq wraps after 255: "behind" means at most half of it back
_UNSEQUENCED = {"NBIRTH", "NDEATH", "NCMD", "DCMD"}  # NBIRTH resets the seq; the others carry none of ours


class Message(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def dup(self) -> bool: ...


M = TypeVar("M", bound=Message)


@dataclass
class _Held(Generic[M]):
    since: float
    by_seq: dict[int, M] = field(default_factory=dict)  # in arrival order


class Reorder(Generic[M]):
    """One shard's waiting messages; ``expected(edge key)`` is the tracker's next seq (None: no live session)."""

    def __init__(self, expected: Callable[[str], int | None], *, timeout_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._expected, self._timeout_s, self._clock = expected, timeout_s, clock
        self._held: dict[str, _Held[M]] = {}

    def offer(self, message: M) -> list[M]:
        """What may be ingested now: the message itself, or nothing while it waits for its predecessors."""
        key = _edge_key(message)
        seq = _sequence(message) if key is not None else None
        if key is None or seq is None or seq == self._expected(key):
            return [message]
        held = self._held.setdefault(key, _Held(self._clock()))
        if seq in held.by_seq:  # the same seq twice (a duplicate, or seq wrapped): order is lost, let all go
            return [*self._release(key), message]
        held.by_seq[seq] = message
        return []

    def already_ingested(self, message: M) -> bool:
        """A redelivered message (DUP) whose seq is behind the edge node's expected one."""
        if not message.dup:
            return False
        key = _edge_key(message)
        expected = self._expected(key) if key is not None else None
        seq = _sequence(message) if expected is not None else None
        if expected is None or seq is None:
            return False
        return 0 < (expected - seq) % SEQ_SPACE <= SEQ_SPACE // 2

    def after(self, message: M) -> list[M]:
        """The held message that follows, now that ``message`` was ingested (its edge node's next seq)."""
        key = _edge_key(message)
        held = self._held.get(key) if key is not None else None
        if key is None or held is None:
            return []
        expected = self._expected(key)
        following = held.by_seq.pop(expected) if expected in held.by_seq else None
        if not held.by_seq:
            del self._held[key]
        return [] if following is None else [following]

    def expired(self) -> list[M]:
        """Messages of edge nodes that waited longer than the timeout, in arrival order: they go on as they are."""
        now = self._clock()
        late = [key for key, held in self._held.items() if now - held.since >= self._timeout_s]
        return [message for key in late for message in self._release(key)]

    def waiting(self) -> int:
        return sum(len(held.by_seq) for held in self._held.values())

    def _release(self, key: str) -> list[M]:
        return list(self._held.pop(key).by_seq.values())


def _edge_key(message: Message) -> str | None:
    """``group/edge`` of a Sparkplug edge node's message (not STATE, not plain MQTT)."""
    parts = message.topic.split("/", 4)
    if parts[0] != "spBv1.0" or len(parts) < 4 or parts[1] == "STATE":
        return None
    return f"{parts[1]}/{parts[3]}"


def _sequence(message: Message) -> int | None:
    """The seq of a data or device birth/death message; None for births, deaths, commands and bad payloads."""
    if message.topic.split("/", 3)[2] in _UNSEQUENCED:
        return None
    try:
        payload = pb.Payload.FromString(message.payload)
    except DecodeError:
        return None  # the tracker refuses it
    return payload.seq if payload.HasField("seq") else None
