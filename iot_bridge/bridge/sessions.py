"""Sparkplug B host-side session tracking per edge node: births, deaths, bdSeq, seq gaps, aliases.

Pure logic (no I/O): the bridge feeds every Sparkplug message of one edge node, in arrival order, to
``SparkplugTracker.track`` and acts on the ``Outcome``: store the metrics, ask for a Rebirth, or drop.

An NBIRTH with the session's own bdSeq answers a Rebirth request: the node's MQTT session goes on, and so do
the device births already received in it, until each device's new DBIRTH replaces its own. MQTT keeps order
per topic only, and a broker with a backlog for the bridge has delivered DBIRTHs of a rebirth before its
NBIRTH (see docs/decisions/0023); forgetting them would refuse the devices' next DDATA as ``unknown_device``.
A new bdSeq is a new MQTT session: it starts with no device births, as the Sparkplug spec says. The
device births of the session before are kept aside for that session's own data still on its way: a DDATA
no birth of the new session decodes, stamped before the new NBIRTH by the node's clock, was sent in the
earlier session (a broker restart with a backlog delivers the new NBIRTH ahead of it) and is decoded with
that session's aliases and kept as late data.

A seq gap moves the session past the missing seqs (the data that came is kept) but remembers them: a
skipped message that arrives after all (a broker with a backlog delays one topic's messages behind another's,
beyond the reorder timeout) is kept as late data, and its redelivery is not mistaken for one stored already.

Data from an edge node the shard holds no birth for (the bridge restarted, or the NBIRTH was lost) is
refused as ``no_birth`` and answered with a Rebirth NCMD, as the Sparkplug spec asks of a host: at most one
per edge node per ``REBIRTH_WINDOW_S`` (a node that missed the request is asked again after the window).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from iot_bridge.sparkplug import (
    BD_SEQ,
    INT64_MAX,
    AliasTable,
    MessageType,
    Payload,
    SparkplugError,
    SparkplugTopic,
    decode_payload,
    next_seq,
    seq_behind,
    seqs_between,
)


@dataclass
class EdgeNodeSession:
    bd_seq: int
    expected_seq: int
    aliases: AliasTable
    born_at: int | None  # the NBIRTH's timestamp, the node's clock (ms)
    devices: dict[str, AliasTable] = field(default_factory=dict)
    earlier_devices: dict[str, AliasTable] = field(default_factory=dict)  # the session before's, for its late data
    online: bool = True
    skipped: set[int] = field(default_factory=set)  # seqs a gap went past, still behind ``expected_seq``

    def move_past(self, seq: int) -> None:
        """The next message must follow ``seq``; a gap's missing seqs are remembered while they are behind."""
        if not seq_behind(seq, self.expected_seq):
            self.skipped.update(seqs_between(self.expected_seq, seq))
        self.expected_seq = next_seq(seq)
        if self.skipped:
            self.skipped = {skipped for skipped in self.skipped if seq_behind(skipped, self.expected_seq)}

    def skipped_behind(self, seq: int | None) -> bool:
        return seq is not None and seq in self.skipped and seq_behind(seq, self.expected_seq)


@dataclass(frozen=True)
class Outcome:
    """What to do with one message: ``payload`` to ingest (None ⇒ nothing), ``rebirth`` to request one."""

    payload: Payload | None = None
    rebirth: bool = False
    rejected: str | None = None  # reason, for the metrics
    node_online: bool | None = None  # the edge node went on/offline with this message
    device_online: bool | None = None  # the topic's device went on/offline
    late: bool = False  # overtaken by newer data or by the node's death: kept as history, liveness unchanged


REBIRTH_WINDOW_S = 10.0


class SparkplugTracker:
    """Sessions of all the edge nodes one bridge shard owns (keyed ``group/edge``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions: dict[str, EdgeNodeSession] = {}
        self._clock = clock
        self._rebirth_asked: dict[str, float] = {}  # edge node → when asked; cleared by its next NBIRTH

    def restore(self, key: str, *, bd_seq: int, expected_seq: int, online: bool, node_birth: bytes,
                device_births: dict[str, bytes], skipped: set[int]) -> None:
        """A session saved by an earlier bridge (``iot_bridge.bridge.saved_sessions``), births as received."""
        birth = decode_payload(node_birth)
        self.sessions[key] = EdgeNodeSession(
            bd_seq=bd_seq, expected_seq=expected_seq, aliases=AliasTable.from_birth(birth), born_at=birth.timestamp,
            devices={code: AliasTable.from_birth(decode_payload(data)) for code, data in device_births.items()},
            online=online, skipped=skipped,
        )

    def expected_seq(self, edge_node_key: str) -> int | None:
        """The seq the node's next data message must carry (after its death too: see ``_after_death``)."""
        session = self.sessions.get(edge_node_key)
        return session.expected_seq if session is not None else None

    def was_skipped(self, edge_node_key: str, seq: int) -> bool:
        """A seq the session went past as a gap: its message, should it still come, is late data."""
        session = self.sessions.get(edge_node_key)
        return session is not None and session.skipped_behind(seq)

    def track(self, topic: SparkplugTopic, data: bytes) -> Outcome:
        try:
            if topic.message_type is MessageType.NBIRTH:
                return self._node_birth(topic, data)
            if topic.message_type is MessageType.NDEATH:
                return self._node_death(topic, data)
            return self._sequenced(topic, data)
        except SparkplugError:
            return Outcome(rejected="bad_payload")

    def _node_birth(self, topic: SparkplugTopic, data: bytes) -> Outcome:
        birth = decode_payload(data)
        bd_seq = birth.metric(BD_SEQ)
        if bd_seq is None or not isinstance(bd_seq.value, int) or birth.seq is None:
            return Outcome(rejected="birth_without_bdseq")
        if not 0 <= bd_seq.value <= INT64_MAX:  # kept in a bigint column with the session
            return Outcome(rejected="bad_payload")
        self._rebirth_asked.pop(topic.edge_node_key, None)
        previous = self.sessions.get(topic.edge_node_key)
        session = EdgeNodeSession(bd_seq=bd_seq.value, expected_seq=next_seq(birth.seq),
                                  aliases=AliasTable.from_birth(birth), born_at=birth.timestamp)
        if previous is not None and previous.bd_seq == bd_seq.value:  # a rebirth: the same MQTT session
            session.devices, session.earlier_devices = previous.devices, previous.earlier_devices
        elif previous is not None:
            session.earlier_devices = previous.devices
        self.sessions[topic.edge_node_key] = session
        return Outcome(payload=birth, node_online=True)

    def _node_death(self, topic: SparkplugTopic, data: bytes) -> Outcome:
        death = decode_payload(data)
        session = self.sessions.get(topic.edge_node_key)
        bd_seq = death.metric(BD_SEQ)
        # A will message of an older connection arriving late must not take the new session down.
        if session is None or bd_seq is None or bd_seq.value != session.bd_seq:
            return Outcome(rejected="stale_death")
        session.online = False
        return Outcome(payload=death, node_online=False)

    def _sequenced(self, topic: SparkplugTopic, data: bytes) -> Outcome:
        session = self.sessions.get(topic.edge_node_key)
        if session is None:
            return self._ask_rebirth(topic, rejected="no_birth")
        if topic.message_type in (MessageType.NCMD, MessageType.DCMD):
            return Outcome()  # our own commands echoed by the broker: not data
        if not session.online:
            return self._after_death(session, topic, data)
        payload = self._decode(session, topic, data)
        if payload is None:
            earlier = self._from_earlier_session(session, topic, data)
            if earlier is not None:
                return Outcome(payload=earlier, late=True)
            return self._ask_rebirth(topic, rejected="unknown_device")
        if session.skipped_behind(payload.seq):
            return self._late(session, payload)
        gap = payload.seq != session.expected_seq
        session.move_past(payload.seq if payload.seq is not None else session.expected_seq)
        device_online = {MessageType.DBIRTH: True, MessageType.DDEATH: False}.get(topic.message_type)
        # The message itself is valid: keep its data, and ask for births to resynchronise.
        rebirth = gap and self._first_ask(topic)
        return Outcome(payload=payload, rebirth=rebirth, device_online=device_online)

    def _after_death(self, session: EdgeNodeSession, topic: SparkplugTopic, data: bytes) -> Outcome:
        """Data a node sent before its death and that the NDEATH (the broker's will, another topic) overtook:
        the session's very next seq, or one a gap went past, is kept as late data; anything else waits for a
        new birth."""
        late_data = topic.message_type in (MessageType.NDATA, MessageType.DDATA)
        payload = self._decode(session, topic, data) if late_data else None
        if payload is None or not (payload.seq == session.expected_seq or session.skipped_behind(payload.seq)):
            return self._ask_rebirth(topic, rejected="no_birth")
        return self._late(session, payload)

    @staticmethod
    def _late(session: EdgeNodeSession, payload: Payload) -> Outcome:
        """Data to keep as history: a seq a gap went past, or the very next one after the node's death."""
        assert payload.seq is not None
        if session.skipped_behind(payload.seq):
            session.skipped.discard(payload.seq)
        else:
            session.move_past(payload.seq)
        return Outcome(payload=payload, late=True)

    @staticmethod
    def _from_earlier_session(session: EdgeNodeSession, topic: SparkplugTopic, data: bytes) -> Payload | None:
        """A DDATA stamped before this session's NBIRTH, of a device born in the session before: decoded so.

        Not a replay from the node's spool: that is stamped when it was read but sent in this session, after
        its births, with their aliases."""
        aliases = session.earlier_devices.get(topic.device_id or "")
        if topic.message_type is not MessageType.DDATA or aliases is None or session.born_at is None:
            return None
        payload = decode_payload(data, aliases)
        sent_before = payload.timestamp is not None and payload.timestamp < session.born_at
        return payload if sent_before and not any(m.is_historical for m in payload.metrics) else None

    def _decode(self, session: EdgeNodeSession, topic: SparkplugTopic, data: bytes) -> Payload | None:
        if topic.message_type is MessageType.NDATA:
            return decode_payload(data, session.aliases)
        assert topic.device_id is not None
        if topic.message_type is MessageType.DBIRTH:
            birth = decode_payload(data)
            session.devices[topic.device_id] = AliasTable.from_birth(birth)
            return birth
        aliases = session.devices.get(topic.device_id)
        return None if aliases is None else decode_payload(data, aliases)

    def _ask_rebirth(self, topic: SparkplugTopic, *, rejected: str) -> Outcome:
        return Outcome(rebirth=self._first_ask(topic), rejected=rejected)

    def _first_ask(self, topic: SparkplugTopic) -> bool:
        """True once per edge node and window until it is born again: one Rebirth request, not one per message."""
        now = self._clock()
        asked = self._rebirth_asked.get(topic.edge_node_key)
        if asked is not None and now - asked < REBIRTH_WINDOW_S:
            return False
        self._rebirth_asked[topic.edge_node_key] = now
        return True
