"""A Sparkplug B edge node: MQTT session, birth and death certificates, seq, commands and the spool.

Used by the edge agent (devices behind Modbus TCP and OPC UA) and by the simulator's Sparkplug edge
nodes. Sources call ``device_online`` / ``device_data`` / ``device_offline``; the node turns them into
DBIRTH / DDATA / DDEATH, keeps the payload ``seq`` (0..255, NBIRTH is 0), answers the host's Rebirth
NCMD and runs DCMD commands through the device's executor, reporting the result in a DDATA.

Each MQTT session is one paho client whose will is the NDEATH carrying that session's ``bdSeq``; when
a session is lost the next one starts with a new client and the next ``bdSeq``, so messages in flight in
the old client die with it and come back from the spool (see ``spool.py``) as historical data.
All the node's state lives on one asyncio loop, which also drives the paho client (``LoopDriver``).
"""

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from iot_bridge.device_types import DeviceTypeSpec
from iot_bridge.edge.edge_device import EdgeDevice, Executor
from iot_bridge.edge.mqtt import BrokerAddress, LoopDriver, published
from iot_bridge.edge.preprocess import Reading
from iot_bridge.edge.spool import Spool
from iot_bridge.sparkplug import (
    BD_SEQ,
    NODE_REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugError,
    TopicError,
    decode_payload,
    device_topic,
    encode_payload,
    next_seq,
    node_topic,
    parse_topic,
    state_topic,
)
from iot_bridge.sparkplug.commands import CORRELATION, RESULT, command_metric, commands_in

log = logging.getLogger(__name__)

def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class NodeCounters:
    """What the node did, for logs, the simulator's loss accounting and tests."""

    sessions: int = 0
    births: int = 0
    data_published: int = 0
    data_acknowledged: int = 0
    replayed: int = 0
    commands: int = 0
    rebirths: int = 0


class SparkplugEdgeNode:
    """One edge node of a Sparkplug group, publishing for its devices."""

    def __init__(self, *, group_id: str, edge_node_id: str, broker: BrokerAddress, spool: Spool,
                 client_id: str | None = None, primary_host_id: str | None = None) -> None:
        self.group_id = group_id
        # Sparkplug 3.0: with a primary host, publish only while its STATE says online; spool otherwise.
        self._state_topic = state_topic(primary_host_id) if primary_host_id else None
        self._host_online = primary_host_id is None
        self.edge_node_id = edge_node_id
        self.counters = NodeCounters()
        self._broker = broker
        self._spool = spool
        self._client_id = client_id or f"tl-edge-{group_id}-{edge_node_id}"
        self._devices: dict[str, EdgeDevice] = {}
        self._next_alias = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driver: LoopDriver | None = None
        self._session = 0  # which paho client the events come from
        self._live = False  # births sent in the current session (and the primary host online)
        self._connected_now = False
        self._bd_seq = 0
        self._seq = 0
        self._in_flight: dict[int, int] = {}  # MQTT message id → spool id
        self._unpublished: list[tuple[EdgeDevice, tuple[Metric, ...], int, int]] = []  # spooled, not yet committed
        self._flush_scheduled = False
        self._acks: deque[tuple[int, int]] = deque()  # (session, mid) as PUBACKs came, drained once per burst
        self._acks_scheduled = False
        self._stopping = False
        self._stopped = False

    # -- devices -----------------------------------------------------------------------------------------

    def add_device(self, device_id: str, spec: DeviceTypeSpec, executor: Executor) -> None:
        names = [t.metric for t in spec.telemetry] + [command_metric(c.name, p) for c in spec.commands
                                                      for p in (CORRELATION, RESULT)]
        aliases = {name: self._next_alias + index for index, name in enumerate(names)}
        self._next_alias += len(names)
        topic = device_topic(self.group_id, MessageType.DDATA, self.edge_node_id, device_id)
        self._devices[device_id] = EdgeDevice(device_id, spec, executor, aliases, str(topic))

    def is_online(self, device_id: str) -> bool:
        return self._devices[device_id].online

    @property
    def live(self) -> bool:
        """Connected with births sent: data goes out now rather than only into the spool."""
        return self._live

    def device_online(self, device_id: str, readings: Mapping[str, Reading]) -> None:
        """The device answers (again): DBIRTH with its current values, then its spooled data."""
        device = self._devices[device_id]
        device.values.update(readings)
        device.online = True
        if self._live:
            self._publish_device_birth(device)
            self._replay(only={device_id})

    def device_data(self, device_id: str, readings: Mapping[str, Reading], timestamp_ms: int | None = None) -> None:
        """New values of an online device: a DDATA now, or into the spool while the broker is away."""
        device = self._devices[device_id]
        device.values.update(readings)
        timestamp = timestamp_ms or now_ms()
        metrics = device.data_metrics(readings, timestamp)
        if not metrics:
            return
        spool_id = self._spool.add(device_id, timestamp, metrics)
        if self._live and device.online:
            self._unpublished.append((device, metrics, spool_id, timestamp))
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._loop is None:  # not started: nothing goes out yet, keep it on disk
            self._spool.commit()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        """End of a loop turn: commit what was spooled, then publish it — on disk before it leaves, one
        commit for the burst. Whatever another publish must follow goes first (it calls this too)."""
        self._flush_scheduled = False
        if self._stopped:
            return
        self._spool.commit()
        unpublished, self._unpublished = self._unpublished, []
        for device, metrics, spool_id, timestamp in unpublished:
            if self._live and device.online:  # else it stays in the spool, replayed after the next birth
                self._publish_data(device, metrics, spool_id, timestamp)

    def device_offline(self, device_id: str) -> None:
        """The device stopped answering: DDEATH (data it sent before stays valid)."""
        device = self._devices[device_id]
        if not device.online:
            return
        device.online = False
        self._flush()
        if self._live:
            self._publish(device_topic(self.group_id, MessageType.DDEATH, self.edge_node_id, device_id),
                          Payload(timestamp=now_ms(), seq=self._take_seq()))

    # -- session -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect in the background; births go out when the broker accepts the connection."""
        self._loop = asyncio.get_running_loop()
        self._new_session()

    async def stop(self) -> None:
        """Publish NDEATH (as a clean shutdown) and disconnect; unacknowledged data stays in the spool."""
        self._flush()
        self._stopping = True
        driver, self._driver = self._driver, None
        if driver is None:
            return
        if self._live:  # not connected any more: the will goes instead
            await published(driver.client.publish(node_topic(self.group_id, MessageType.NDEATH, self.edge_node_id),
                                                  self._death_payload(), qos=1), 5)
        self._live = False
        await driver.stop()
        self._drain_acks()  # what the broker acknowledged meanwhile leaves the spool
        self._spool.commit()
        self._stopped = True  # the owner closes the spool next: callbacks still scheduled must not touch it

    def _new_session(self) -> None:
        self._session += 1
        session = self._session
        self._bd_seq = self._spool.next_bd_seq()
        self._in_flight.clear()
        client = self._broker.client(self._client_id)
        client.will_set(node_topic(self.group_id, MessageType.NDEATH, self.edge_node_id), self._death_payload(), qos=1)
        client.on_connect = lambda c, u, f, reason, p: self._hand_over(session, self._connected, reason)
        client.on_disconnect = lambda c, u, f, reason, p: self._hand_over(session, self._lost)
        client.on_message = lambda c, u, message: self._hand_over(session, self._command, message.topic,
                                                                   message.payload)
        client.on_publish = lambda c, u, mid, reason, p: self._hand_over_ack(session, mid)
        self._driver = LoopDriver(client, self._broker)

    def _hand_over(self, session: int, handler: Callable[..., None], *args: Any) -> None:
        """After paho's callback returns; events of an abandoned client are dropped."""
        assert self._loop is not None
        self._loop.call_soon(self._if_current, session, handler, args)

    def _hand_over_ack(self, session: int, mid: int) -> None:
        """PUBACKs come by the thousand: queued, and drained together once paho has read what came."""
        self._acks.append((session, mid))
        if not self._acks_scheduled:
            self._acks_scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._drain_acks)

    def _drain_acks(self) -> None:
        self._acks_scheduled = False  # an ack appended after this schedules the next drain
        if self._stopped:
            return
        acknowledged = []
        while self._acks:
            session, mid = self._acks.popleft()
            spool_id = self._in_flight.pop(mid, None) if session == self._session else None
            if spool_id is not None:
                acknowledged.append(spool_id)
        if acknowledged:
            self._spool.acknowledge(*acknowledged)
            self.counters.data_acknowledged += len(acknowledged)
            self._schedule_flush()

    def _if_current(self, session: int, handler: Callable[..., None], args: tuple[Any, ...]) -> None:
        if session == self._session and not self._stopping:
            handler(*args)

    def _connected(self, reason: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the edge node", extra={"reason": str(reason)})
            return
        assert self._driver is not None
        topics = [(node_topic(self.group_id, MessageType.NCMD, self.edge_node_id), 1),
                  (f"spBv1.0/{self.group_id}/{MessageType.DCMD.value}/{self.edge_node_id}/+", 1)]
        self._driver.client.subscribe(topics + ([(self._state_topic, 1)] if self._state_topic else []))
        self.counters.sessions += 1
        self._connected_now = True
        self._go_live()

    def _go_live(self) -> None:
        """Births, then what the spool holds: once connected and (if there is one) the primary host online."""
        if self._live or not (self._connected_now and self._host_online):
            return
        self._publish_births()
        self._live = True
        self._replay(only={d.device_id for d in self._devices.values() if d.online})

    def _host_state(self, body: bytes) -> None:
        """The primary host's STATE: offline ⇒ keep data in the spool; online again ⇒ rebirth and replay."""
        try:
            self._host_online = json.loads(body).get("online") is True
        except (ValueError, AttributeError):
            log.warning("bad STATE message ignored")
            return
        if self._host_online:
            self._go_live()
        else:
            self._live = False

    def _lost(self) -> None:
        """The session is over: its will (NDEATH) tells the host; start the next one with a new bdSeq."""
        self._live = False
        self._connected_now = False
        if self._driver is not None:
            self._driver.abandon()
        self._new_session()

    # -- publishing --------------------------------------------------------------------------------------

    def _take_seq(self) -> int:
        seq = self._seq
        self._seq = next_seq(seq)
        return seq

    def _death_payload(self) -> bytes:
        return encode_payload(Payload(timestamp=now_ms(), seq=None,
                                      metrics=(Metric(name=BD_SEQ, value=self._bd_seq, datatype=DataType.UINT64),)))

    def _publish_births(self) -> None:
        """NBIRTH (seq 0, this session's bdSeq, the Rebirth control) and a DBIRTH per online device."""
        self._flush()
        timestamp = now_ms()
        self._seq = 0
        self._publish(node_topic(self.group_id, MessageType.NBIRTH, self.edge_node_id), Payload(
            timestamp=timestamp, seq=self._take_seq(), metrics=(
                Metric(name=BD_SEQ, value=self._bd_seq, datatype=DataType.UINT64, timestamp=timestamp),
                Metric(name=NODE_REBIRTH, value=False, datatype=DataType.BOOLEAN, timestamp=timestamp),
            )))
        for device in self._devices.values():
            if device.online:
                self._publish_device_birth(device)

    def _publish_device_birth(self, device: EdgeDevice) -> None:
        self._flush()
        timestamp = now_ms()
        self._publish(device_topic(self.group_id, MessageType.DBIRTH, self.edge_node_id, device.device_id),
                      Payload(timestamp=timestamp, seq=self._take_seq(), metrics=device.birth_metrics(timestamp)))
        self.counters.births += 1

    def _publish_data(self, device: EdgeDevice, metrics: tuple[Metric, ...], spool_id: int, timestamp: int,
                      *, historical: bool = False) -> None:
        """A DDATA by alias (the birth named them); its spool row goes when the broker acknowledges it."""
        by_alias = tuple(
            Metric(name=None, alias=device.aliases[m.name], datatype=m.datatype, value=m.value,
                   timestamp=m.timestamp, is_historical=historical)
            for m in metrics if m.name in device.aliases
        )
        info = self._publish(device.data_topic, Payload(timestamp=timestamp, seq=self._take_seq(), metrics=by_alias))
        if info is not None:
            self._in_flight[info.mid] = spool_id
            self.counters.data_published += 1

    def _publish(self, topic: str, payload: Payload) -> mqtt.MQTTMessageInfo | None:
        if self._driver is None:
            return None
        info = self._driver.client.publish(topic, encode_payload(payload), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            log.warning("publish not accepted", extra={"topic": topic, "rc": info.rc})
        return info

    def _replay(self, *, only: set[str]) -> None:
        """Send the spooled messages of these (born) devices again, as historical data."""
        self._flush()
        in_flight = set(self._in_flight.values())
        for message in self._spool.pending():
            device = self._devices.get(message.device_id)
            if message.id in in_flight or device is None or message.device_id not in only:
                continue
            self._publish_data(device, message.metrics, message.id, message.timestamp_ms, historical=True)
            self.counters.replayed += 1

    # -- commands ----------------------------------------------------------------------------------------

    def _command(self, topic: str, body: bytes) -> None:
        if topic == self._state_topic:
            self._host_state(body)
            return
        try:
            parsed = parse_topic(topic)
            device = self._devices.get(parsed.device_id) if parsed.device_id else None
            payload = decode_payload(body)  # commands name their metrics
        except (SparkplugError, TopicError) as exc:
            log.warning("bad command ignored", extra={"topic": topic, "error": str(exc)})
            return
        if parsed.message_type is MessageType.NCMD:
            if any(m.name == NODE_REBIRTH and m.value is True for m in payload.metrics):
                self.counters.rebirths += 1
                self._publish_births()
        elif device is not None:
            asyncio.get_running_loop().create_task(self._run_device_command(device, payload))

    async def _run_device_command(self, device: EdgeDevice, payload: Payload) -> None:
        """Each ``Command/<name>/…`` group in the DCMD is one command; its result goes back in a DDATA
        (see ``iot_bridge.sparkplug.commands``)."""
        for command in commands_in(payload.metrics):
            self.counters.commands += 1
            result = await device.execute(command)
            timestamp = now_ms()
            metrics = device.result_metrics(command.name, command.correlation_id, result, timestamp)
            if metrics and self._live:
                self._flush()
                spool_id = self._spool.add(device.device_id, timestamp, metrics)
                self._spool.commit()
                self._publish_data(device, metrics, spool_id, timestamp)

