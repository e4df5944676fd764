"""Sparkplug B host-side session tracking per edge node: births, deaths, bdSeq, seq gaps, aliases.

Pure logic (no I/O): the bridge feeds every Sparkplug message of one edge node, in arrival order, to
``SparkplugTracker.track`` and acts on the ``Outcome``: store the metrics, ask for a Rebirth, or drop.
"""

from dataclasses import dataclass, field

from iot_bridge.sparkplug import (
    BD_SEQ,
    AliasTable,
    MessageType,
    Payload,
    SparkplugError,
    SparkplugTopic,
    decode_payload,
    next_seq,
)


@dataclass
class EdgeNodeSession:
    bd_seq: int
    expected_seq: int
    aliases: AliasTable
    devices: dict[str, AliasTable] = field(default_factory=dict)
    online: bool = True


@dataclass(frozen=True)
class Outcome:
    """What to do with one message: ``payload`` to ingest (None ⇒ nothing), ``rebirth`` to request one."""

    payload: Payload | None = None
    rebirth: bool = False
    rejected: str | None = None  # reason, for the metrics
    node_online: bool | None = None  # the edge node went on/offline with this message
    device_online: bool | None = None  # the topic's device went on/offline


class SparkplugTracker:
    """Sessions of all the edge nodes one bridge shard owns (keyed ``group/edge``)."""

    def __init__(self) -> None:
        self.sessions: dict[str, EdgeNodeSession] = {}
        self._rebirth_asked: set[str] = set()  # edge nodes asked once; cleared by their next NBIRTH

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
        self._rebirth_asked.discard(topic.edge_node_key)
        self.sessions[topic.edge_node_key] = EdgeNodeSession(
            bd_seq=bd_seq.value, expected_seq=next_seq(birth.seq), aliases=AliasTable.from_birth(birth),
        )
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
        if session is None or not session.online:
            return self._ask_rebirth(topic, rejected="no_birth")
        if topic.message_type in (MessageType.NCMD, MessageType.DCMD):
            return Outcome()  # our own commands echoed by the broker: not data
        payload = self._decode(session, topic, data)
        if payload is None:
            return self._ask_rebirth(topic, rejected="unknown_device")
        gap = payload.seq != session.expected_seq
        session.expected_seq = next_seq(payload.seq if payload.seq is not None else session.expected_seq)
        device_online = {MessageType.DBIRTH: True, MessageType.DDEATH: False}.get(topic.message_type)
        # The message itself is valid: keep its data, and ask for births to resynchronise.
        rebirth = gap and self._first_ask(topic)
        return Outcome(payload=payload, rebirth=rebirth, device_online=device_online)

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
        """True once per edge node until it is born again: one Rebirth request, not one per message."""
        if topic.edge_node_key in self._rebirth_asked:
            return False
        self._rebirth_asked.add(topic.edge_node_key)
        return True
