"""From one MQTT message to what it means: telemetry rows, liveness, alarm transitions, or a rejection.

``Ingestor`` holds one shard's state (Sparkplug sessions, alarm evaluator, last-seen times); it does no I/O
except registry lookups, so the shard worker can write a whole batch of effects in one transaction.
"""

import datetime as dt
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from iot_bridge.alarm_rules import AlarmEvaluator, Transition
from iot_bridge.bridge.directory import Directory, KnownDevice, KnownEdgeNode
from iot_bridge.bridge.reorder import HeldChanges
from iot_bridge.bridge.saved_sessions import EdgeRef, SavedBirth
from iot_bridge.bridge.sessions import SparkplugTracker
from iot_bridge.plain_topics import PlainTopic, TopicKind, parse_plain_topic
from iot_bridge.sparkplug import INT64_MAX, MessageType, Payload, SparkplugTopic, TopicError, parse_topic
from iot_bridge.sparkplug.commands import commands_in
from iot_bridge.telemetry import StorableTimes, TelemetryRow

MAX_JSON_BYTES = 64 * 1024
RECENT_JSON_SEQS = 64  # per plain telemetry topic: how far back a redelivery is known for a copy
Reading = tuple[str, object, dt.datetime, bool]  # key, value, time, historical


class RecentSeqs:
    """The seqs of a topic's last ``RECENT_JSON_SEQS`` messages ingested, oldest first.

    A redelivered (DUP) message is a copy only when its seq is among them. Not "at or below the last one": a
    broker may deliver a publisher's messages out of order (Mosquitto 2.0.11 did under a backlog while the
    bridge acknowledged out of delivery order, decision 0034), and a report overtaken by a later one, then
    redelivered after a reconnect, was refused as a copy and lost. A copy from further back is stored again
    rather than risk that.
    """

    def __init__(self) -> None:
        self._seqs: dict[int, None] = {}  # an ordered set

    def add(self, seq: int) -> None:
        self._seqs.pop(seq, None)
        self._seqs[seq] = None
        if len(self._seqs) > RECENT_JSON_SEQS:
            del self._seqs[next(iter(self._seqs))]

    def __contains__(self, seq: int) -> bool:
        return seq in self._seqs


@dataclass
class Effects:
    """Everything a batch of messages asks the shard to write, publish and count."""

    rows: list[TelemetryRow] = field(default_factory=list)
    transitions: list[tuple[uuid.UUID, Transition]] = field(default_factory=list)  # (org id, transition)
    online: dict[uuid.UUID, bool] = field(default_factory=dict)
    seen: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    reported_attributes: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    rebirths: list[SparkplugTopic] = field(default_factory=list)
    command_answers: list[tuple[uuid.UUID, str, dict[str, Any]]] = field(default_factory=list)  # org, code, body
    rejected: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    births: list[SavedBirth] = field(default_factory=list)  # Sparkplug births to save, in arrival order
    touched: dict[str, EdgeRef] = field(default_factory=dict)  # edge nodes whose session moved on
    held: HeldChanges[Any] = field(default_factory=HeldChanges)  # the reorder buffer's, to save

    def has_writes(self) -> bool:
        return bool(self.rows or self.transitions or self.reported_attributes or self.command_answers
                    or self.births or self.touched or self.held)


class Ingestor:
    def __init__(self, directory: Directory, *, retention_days: int) -> None:
        self.directory = directory
        self.tracker = SparkplugTracker()
        self.alarms = AlarmEvaluator()
        self.last_seen: dict[uuid.UUID, tuple[KnownDevice, dt.datetime]] = {}
        self._born_devices: dict[str, dict[str, KnownDevice]] = {}  # edge key → device code → device
        self._json_seqs: dict[PlainTopic, RecentSeqs] = {}  # plain telemetry topic → seqs of its last messages
        self.storable = StorableTimes(retention_days)

    async def ingest(self, topic: str, payload: bytes, effects: Effects, *, now: dt.datetime) -> None:
        """Add one message's effects; a bad message only adds a rejection reason."""
        self.storable.move_to(now.date())
        if topic.startswith("spBv1.0/STATE/"):
            return  # host applications' announcements (ours included): not device data
        reason = await (self._sparkplug(topic, payload, effects, now) if topic.startswith("spBv1.0/")
                        else self._plain(topic, payload, effects, now))
        if reason is None:
            effects.accepted += 1
        else:
            effects.rejected[reason] += 1

    def copy_of_json_ingested(self, topic: str, data: bytes) -> bool:
        """A redelivered (DUP) plain telemetry message whose ``seq`` is one of its topic's last ones ingested."""
        parsed = parse_plain_topic(topic)
        recent = self._json_seqs.get(parsed) if parsed is not None else None
        document = _json_object(data) if recent is not None else None
        seq = document.get("seq") if document is not None else None
        return recent is not None and _is_int(seq) and seq in recent

    async def _sparkplug(self, topic: str, data: bytes, effects: Effects, now: dt.datetime) -> str | None:
        try:
            parsed = parse_topic(topic)
        except TopicError:
            return "bad_topic"
        edge = await self.directory.edge_node(parsed.group_id, parsed.edge_node_id)
        if edge is None:
            return "unknown_edge_node"
        outcome = self.tracker.track(parsed, data)
        self._note_session(edge, parsed, data, outcome.payload is not None, effects)
        if outcome.rebirth:
            effects.rebirths.append(parsed)
        if outcome.node_online is False:
            for born in self._born_devices.pop(parsed.edge_node_key, {}).values():
                effects.online[born.id] = False
        if outcome.payload is None or parsed.device_id is None:
            return outcome.rejected
        device = await self._device_of(edge, parsed)
        if device is None:
            return "unknown_device"
        if outcome.device_online is False:
            effects.online[device.id] = False
            return None
        if parsed.message_type is MessageType.DDATA:
            effects.command_answers.extend((device.org_id, device.code, answer)
                                           for answer in _command_answers(outcome.payload))
        readings = _sparkplug_values(device, outcome.payload, now, effects)
        if outcome.late:  # came after newer data, or after its node's death: history, liveness unchanged
            self._rows(device, [(key, value, ts, True) for key, value, ts, _ in readings], outcome.payload.seq,
                       effects)
            return None
        self._born_devices.setdefault(parsed.edge_node_key, {})[device.code] = device
        self._readings(device, readings, outcome.payload.seq, effects, now)
        return outcome.rejected

    def _note_session(self, edge: KnownEdgeNode, topic: SparkplugTopic, data: bytes, taken: bool,
                      effects: Effects) -> None:
        """What of the node's session the batch must save (``iot_bridge.bridge.saved_sessions``)."""
        session = self.tracker.sessions.get(topic.edge_node_key)
        if session is None:
            return
        effects.touched[topic.edge_node_key] = (edge.org_id, topic.group_id, topic.edge_node_id)
        if taken and topic.message_type in (MessageType.NBIRTH, MessageType.DBIRTH):
            effects.births.append(SavedBirth(edge.org_id, topic.group_id, topic.edge_node_id, topic.device_id,
                                             session.bd_seq, data))

    async def _device_of(self, edge: KnownEdgeNode, topic: SparkplugTopic) -> KnownDevice | None:
        """The topic's device, only if it is registered under this very edge node (else: forged or unknown)."""
        assert topic.device_id is not None
        device = await self.directory.device(edge.org_id, topic.device_id)
        return device if device is not None and device.edge_node_id == edge.id else None

    async def _plain(self, topic: str, data: bytes, effects: Effects, now: dt.datetime) -> str | None:
        parsed = parse_plain_topic(topic)
        if parsed is None:
            return "bad_topic"
        if parsed.kind is TopicKind.COMMANDS:
            return None  # the platform's own commands, echoed by the broker
        device = await self.directory.device(parsed.org_id, parsed.device_code)
        if device is None:
            return "unknown_device"
        document = _json_object(data)
        if document is None:
            return "bad_payload"
        if parsed.kind is TopicKind.COMMAND_ACK:
            effects.command_answers.append((device.org_id, device.code, document))
            return None
        if parsed.kind is TopicKind.ATTRIBUTES:
            return self._attributes(device, document, effects, now)
        return self._json_telemetry(device, parsed, document, effects, now)

    def _json_telemetry(
        self, device: KnownDevice, topic: PlainTopic, document: dict[str, Any], effects: Effects, now: dt.datetime
    ) -> str | None:
        values = document.get("values")
        ts = _json_time(document.get("ts"), now)
        seq = document.get("seq")
        if not isinstance(values, dict) or ts is None or not (seq is None or _is_seq(seq)):
            return "bad_payload"
        readings: list[Reading] = []
        for key, value in values.items():
            spec = device.spec.telemetry_key(key)
            if spec is None or not spec.type.accepts(value):
                return "wrong_type"  # nothing of a message with a wrong value is stored
            readings.append((key, value, ts, bool(document.get("historical", False))))
        self._readings(device, readings, seq, effects, now)
        if seq is not None:
            self._json_seqs.setdefault(topic, RecentSeqs()).add(seq)
        return None

    def _attributes(self, device: KnownDevice, document: dict[str, Any], effects: Effects,
                    now: dt.datetime) -> str | None:
        known = {a.key: a for a in device.spec.attributes}
        for key, value in document.items():
            if key not in known or not known[key].type.accepts(value):
                return "wrong_type"
        effects.reported_attributes.setdefault(device.id, {}).update(document)
        self._mark_seen(device, now, effects)
        effects.transitions.extend((device.org_id, t) for t in self.alarms.seen(device.id, device.spec, now))
        return None

    def _readings(
        self, device: KnownDevice, readings: list[Reading], seq: int | None,
        effects: Effects, now: dt.datetime,
    ) -> None:
        self._mark_seen(device, now, effects)
        live = next((ts for _, _, ts, historical in readings if not historical), None)
        if live is not None:  # the device speaks now: its offline alarms clear
            effects.transitions.extend((device.org_id, t) for t in self.alarms.seen(device.id, device.spec, live))
        self._rows(device, readings, seq, effects)

    def _rows(self, device: KnownDevice, readings: list[Reading], seq: int | None, effects: Effects) -> None:
        """Telemetry rows of the readings inside the stored days; alarms from the live ones."""
        for key, value, ts, historical in readings:
            if ts not in self.storable:
                effects.rejected["time_out_of_range"] += 1
                continue
            effects.rows.append(TelemetryRow.of(org_id=device.org_id, device_id=device.id, key=key, ts=ts,
                                                value=value, seq=seq, historical=historical))
            if not historical:  # replayed old data must not raise today's alarms
                for transition in self.alarms.observe(device.id, device.spec, key, value, ts):
                    effects.transitions.append((device.org_id, transition))

    def _mark_seen(self, device: KnownDevice, now: dt.datetime, effects: Effects) -> None:
        self.last_seen[device.id] = (device, now)
        effects.seen[device.id] = now
        effects.online[device.id] = True

    def check_offline(self, now: dt.datetime) -> list[tuple[uuid.UUID, Transition]]:
        """Offline alarms (with the org id) for devices this shard has heard from and that went silent."""
        return [(device.org_id, t) for device, seen in self.last_seen.values()
                for t in self.alarms.check_offline(device.id, device.spec, seen, now)]


def _sparkplug_values(
    device: KnownDevice, payload: Payload, now: dt.datetime, effects: Effects
) -> list[Reading]:
    """Metrics the device type knows (by Sparkplug metric name) as (key, value, time, historical).

    Other metrics (node controls, properties) are not telemetry and are passed over.
    """
    by_metric = device.spec.by_metric
    readings: list[Reading] = []
    times: dict[int, dt.datetime | None] = {}  # a message's metrics mostly share one timestamp: convert it once
    for metric in payload.metrics:
        key = by_metric.get(metric.name or "")
        if key is None or metric.is_null:
            continue
        if not key.type.accepts(metric.value):
            effects.rejected["wrong_type"] += 1
            continue
        stamp = metric.timestamp or payload.timestamp or 0
        if stamp not in times:
            times[stamp] = _time_of_ms(stamp) if stamp else now
        ts = times[stamp]
        if ts is None:
            effects.rejected["time_out_of_range"] += 1
            continue
        readings.append((key.key, metric.value, ts, metric.is_historical))
    return readings


def _command_answers(payload: Payload) -> list[dict[str, Any]]:
    """Command results an edge node reported in a DDATA, as the JSON answers plain devices send."""
    return [{"correlation_id": c.correlation_id, "ok": c.ok, "detail": c.detail}
            for c in commands_in(payload.metrics) if c.correlation_id and c.result is not None]


def _json_object(data: bytes) -> dict[str, Any] | None:
    if len(data) > MAX_JSON_BYTES:
        return None
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_seq(value: object) -> TypeGuard[int]:
    """A JSON report's ``seq``: a count from 0 that the telemetry table's ``bigint`` can hold."""
    return _is_int(value) and 0 <= value <= INT64_MAX


def _json_time(value: object, now: dt.datetime) -> dt.datetime | None:
    """``ts`` in ms since the epoch (absent ⇒ arrival time)."""
    if value is None:
        return now
    return _time_of_ms(value) if _is_int(value) else None


def _time_of_ms(ms: int) -> dt.datetime | None:
    """Milliseconds since the epoch as a time; None beyond what a datetime holds (year 1 to 9999)."""
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
