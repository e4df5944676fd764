"""Sparkplug messages of one edge node put back in ``seq`` order before the tracker sees them.

MQTT keeps order per topic only: a broker working through a backlog for the bridge has delivered an edge
node's DDATA seconds before the NBIRTH published ahead of it (another topic), and the data was refused as
``no_birth`` and lost. Sparkplug 3.0 gives the host application a *reorder timeout* for this: a message whose
``seq`` is not the one expected waits until the missing ones arrive, or until the timeout
(``TRADELOOM_IOT_REORDER_TIMEOUT_SECONDS``, 10 s), after which it goes on as it is (the tracker then sees
the gap and asks for a Rebirth, or refuses it without a birth).

A waiting message is saved (``iot_held_messages``, in the batch's transaction) and then acknowledged, like
one ingested: ``take_changes`` gives the runner what to save and what to delete. Held unacknowledged, it
would take a place in the broker's window of messages in flight to the bridge (2,000): once that many
waited, the broker sent nothing more, not even the predecessors they waited for, until the timeout let them
go as gaps (decision 0030). Saved, a restart finds them again (``restore``); the broker's redelivery of one
not yet acknowledged then finds its own copy held and is only acknowledged.

A message whose seq the tracker went past as a gap (``SparkplugTracker.was_skipped``) is not held: it came
after its successors, and goes on at once as late data. A redelivery (MQTT's DUP flag, as every message the
broker sends again after a reconnect carries) whose seq lies behind the expected one, and was not skipped,
was ingested already (its batch was committed, with the saved session, before
the crash; or its first copy was still queued at the bridge over a broker restart) and is only acknowledged:
held, it would come back after the timeout as a seq gap and set off a Rebirth.
Births (NBIRTH carries seq 0) and plain-MQTT messages pass straight through; after each message the held ones
that are now next follow it. A death (NDEATH, no seq) passes too, unless data of its node waits: the node sent
all its data before it died (a clean stop's NDEATH follows the data on its connection, the broker's will
comes when that connection ends), so it waits behind them and goes on after the last of them, or after them
when the timeout lets them go. Passed at once it ended the session first, and the data still waiting was
refused as ``no_birth`` and lost: Mosquitto 2.0.11 sent a node's messages out of order while the bridge
acknowledged out of delivery order (decision 0034), and MQTT orders messages per topic only. It is saved like
a held message, under ``DEATH_SEQ``.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from google.protobuf.message import DecodeError

from iot_bridge.sparkplug import SEQ_MODULUS, seq_behind
from iot_bridge.sparkplug import sparkplug_b_pb2 as pb

_UNSEQUENCED = {"NBIRTH", "NDEATH", "NCMD", "DCMD"}  # NBIRTH resets the seq; the others carry none of ours
DEATH_SEQ = -1  # a held NDEATH's place among its node's held messages (data seqs are 0..255)


class Message(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def dup(self) -> bool: ...


M = TypeVar("M", bound=Message)


class SeqPositions(Protocol):
    """Where each edge node's session stands (``SparkplugTracker``)."""

    def expected_seq(self, edge_node_key: str) -> int | None:
        """The next seq; None: no live session."""

    def was_skipped(self, edge_node_key: str, seq: int) -> bool:
        """A seq a gap went past: its message is late, not early."""


@dataclass
class _Held(Generic[M]):
    since: float
    by_seq: dict[int, M] = field(default_factory=dict)  # in arrival order
    death: M | None = None  # the node's NDEATH, which goes after all of them


HeldKey = tuple[str, int]  # edge node key (``group/edge``), seq


@dataclass
class HeldChanges(Generic[M]):
    """What the database must learn of the holds since the last ``take_changes``: deletes go first."""

    released: list[HeldKey] = field(default_factory=list)  # saved earlier, no longer held
    held: list[tuple[HeldKey, M]] = field(default_factory=list)  # held now, not saved yet

    def __bool__(self) -> bool:
        return bool(self.released or self.held)


class Reorder(Generic[M]):
    """One shard's waiting messages, placed by the shard's ``positions``."""

    def __init__(self, positions: SeqPositions, *, timeout_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._positions, self._timeout_s, self._clock = positions, timeout_s, clock
        self._held: dict[str, _Held[M]] = {}
        self._unsaved: dict[HeldKey, M] = {}  # held since the last take_changes
        self._released: set[HeldKey] = set()  # saved ones released since the last take_changes

    def offer(self, message: M) -> list[M]:
        """What may be ingested now: the message itself, or nothing while it waits for its predecessors (or
        is a redelivery of one that waits)."""
        key = _edge_key(message)
        if key is not None and key in self._held and _is_death(message):
            return self._hold_death(key, message)
        seq = _sequence(message) if key is not None else None
        if key is None or seq is None or seq == self._positions.expected_seq(key) \
                or self._positions.was_skipped(key, seq):  # in order, or late: a gap went past it
            return [message]
        held = self._held.setdefault(key, _Held(self._clock()))
        if seq in held.by_seq:
            if held.by_seq[seq].payload == message.payload:
                return []
            return [*self._release(key), message]  # the same seq for other data (seq wrapped): order is lost
        held.by_seq[seq] = self._unsaved[(key, seq)] = message
        return []

    def restore(self, key: str, seq: int, message: M) -> None:
        """A message an earlier bridge saved while it waited; it waits again, for a whole timeout."""
        held = self._held.setdefault(key, _Held(self._clock()))
        if seq == DEATH_SEQ:
            held.death = message
        else:
            held.by_seq[seq] = message

    def take_changes(self) -> HeldChanges[M]:
        changes = HeldChanges(sorted(self._released), list(self._unsaved.items()))
        self._unsaved, self._released = {}, set()
        return changes

    def already_ingested(self, message: M) -> bool:
        """A redelivered message (DUP) whose seq is behind the edge node's expected one, and was not skipped."""
        if not message.dup:
            return False
        key = _edge_key(message)
        expected = self._positions.expected_seq(key) if key is not None else None
        seq = _sequence(message) if expected is not None else None
        if key is None or expected is None or seq is None:
            return False
        return seq_behind(seq, expected) and not self._positions.was_skipped(key, seq)

    def after(self, message: M) -> list[M]:
        """The held message that follows, now that ``message`` was ingested (its edge node's next seq), and the
        node's death once nothing else of it waits."""
        key = _edge_key(message)
        held = self._held.get(key) if key is not None else None
        if key is None or held is None:
            return []
        expected = self._positions.expected_seq(key)
        following = [self._take(key, expected)] if expected is not None and expected in held.by_seq else []
        if not held.by_seq:
            following += self._release(key)  # nothing left to wait for: the death, if one waits
        return following

    def expired(self) -> list[M]:
        """Messages of edge nodes that waited longer than the timeout, in arrival order: they go on as they are."""
        now = self._clock()
        late = [key for key, held in self._held.items() if now - held.since >= self._timeout_s]
        return [message for key in late for message in self._release(key)]

    def waiting(self) -> int:
        return sum(len(held.by_seq) + (held.death is not None) for held in self._held.values())

    def _release(self, key: str) -> list[M]:
        """All the node's held messages in arrival order, its death last."""
        held = self._held[key]
        released = [self._take(key, seq) for seq in list(held.by_seq)]
        if held.death is not None:
            released.append(held.death)
            self._forget((key, DEATH_SEQ))
        del self._held[key]
        return released

    def _hold_death(self, key: str, death: M) -> list[M]:
        """The node's NDEATH behind its waiting data; a copy of one already waiting is dropped."""
        held = self._held[key]
        if held.death is None:
            held.death = self._unsaved[(key, DEATH_SEQ)] = death
        elif held.death.payload != death.payload:  # another session's death: order is lost, all go as they came
            return [*self._release(key), death]
        return []

    def _take(self, key: str, seq: int) -> M:
        """Out of the buffer."""
        message = self._held[key].by_seq.pop(seq)
        self._forget((key, seq))
        return message

    def _forget(self, held_key: HeldKey) -> None:
        """No longer held: to be deleted from the database, unless it was never saved."""
        if self._unsaved.pop(held_key, None) is None:
            self._released.add(held_key)


def _edge_key(message: Message) -> str | None:
    """``group/edge`` of a Sparkplug edge node's message (not STATE, not plain MQTT)."""
    parts = message.topic.split("/", 4)
    if parts[0] != "spBv1.0" or len(parts) < 4 or parts[1] == "STATE":
        return None
    return f"{parts[1]}/{parts[3]}"


def _is_death(message: Message) -> bool:
    return message.topic.split("/", 3)[2] == "NDEATH"


def _sequence(message: Message) -> int | None:
    """The seq of a data or device birth/death message; None for births, deaths, commands and bad payloads."""
    if message.topic.split("/", 3)[2] in _UNSEQUENCED:
        return None
    try:
        payload = pb.Payload.FromString(message.payload)
    except DecodeError:
        return None  # the tracker refuses it
    if not payload.HasField("seq") or payload.seq >= SEQ_MODULUS:
        return None  # a seq beyond 255 too
    return payload.seq
