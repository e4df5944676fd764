"""``tradeloom iot-bridge``: the Sparkplug B host application and plain-MQTT ingestion service.

The paho-mqtt client runs on the event loop (``LoopDriver``) and hands each message to one of ``iot_shards``
asyncio workers, chosen by edge node (Sparkplug) or device (plain MQTT), so each edge node's messages are
processed in order by one worker.
A worker takes what is queued (up to ``iot_batch_rows``), turns it into effects, writes them in one
transaction (COPY of telemetry, alarms, attributes), then updates Redis and only then marks the QoS 1
messages done; they are acknowledged to the broker (``manual_ack``) in the order they came
(``acknowledgements``): a crash before the commit makes the broker send them again to the persistent session.
"""

import asyncio
import datetime as dt
import json
import logging
import uuid
import zlib
from collections import Counter, deque
from typing import NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import Counter as PromCounter
from redis.asyncio import Redis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from iot_bridge import alarms, commands, live, production, reconcile
from iot_bridge.bridge import held_messages, saved_sessions
from iot_bridge.bridge.acknowledgements import InOrderAcknowledgements
from iot_bridge.bridge.directory import Directory
from iot_bridge.bridge.ingest import Effects, Ingestor
from iot_bridge.bridge.reorder import Reorder
from iot_bridge.edge.mqtt import BrokerAddress, LoopDriver, published
from iot_bridge.models import Device
from iot_bridge.plain_topics import TopicKind, plain_topic, subscriptions
from iot_bridge.running import reraise_if_cancelling, until_done
from iot_bridge.sparkplug import (
    MessageType,
    Payload,
    device_topic,
    encode_payload,
    node_topic,
    rebirth_request,
    state_payload,
    state_topic,
)
from iot_bridge.telemetry import copy_rows, ensure_partitions
from tradeloom.db import utcnow
from tradeloom.settings import Settings

log = logging.getLogger(__name__)

MESSAGES = PromCounter("tradeloom_iot_messages_total", "MQTT messages ingested by the bridge", ["outcome"])
REJECTED = PromCounter("tradeloom_iot_rejected_total", "MQTT messages refused by the bridge", ["reason"])
OFFLINE_CHECK_SECONDS = 5.0
COMMAND_POLL_SECONDS = 0.5


class Inbound(NamedTuple):
    """A message as paho handed it over (a tuple: one is built per message, in half a frozen dataclass's time)."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    dup: bool  # delivered again after a reconnect (MQTT DUP flag)
    connection: int  # which of the bridge's connections to the broker it came over (0: none, restored)
    delivery: int = 0  # its place among all the messages the bridge received (0: restored)


def _restored(topic: str, payload: bytes) -> Inbound:
    """A held message saved by an earlier bridge: acknowledged back then, so never again (QoS 0 here)."""
    return Inbound(topic, payload, mid=0, qos=0, dup=True, connection=0)


def shard_key(topic: str) -> str:
    """``group/edge`` for Sparkplug, ``org/device`` for plain topics: what must stay in order."""
    parts = topic.split("/", 4)
    if parts[0] == "spBv1.0" and len(parts) >= 4:
        return f"{parts[1]}/{parts[3]}"
    return "/".join(parts[1:3])


class Bridge:
    def __init__(self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], redis: Redis,
                 broker: BrokerAddress, *, persistent_session: bool = True,
                 topic_filters: list[str] | None = None) -> None:
        """``topic_filters``: what to subscribe to; default every Sparkplug and plain topic (one bridge per
        broker); a partition of them (e.g. ``spBv1.0/plant-a/#``) when several bridges share the fleet."""
        self.settings, self.sessionmaker, self.redis, self.broker = settings, sessionmaker, redis, broker
        self.persistent_session = persistent_session
        self.topic_filters = topic_filters or ["spBv1.0/#", *subscriptions()]
        self.directory = Directory(sessionmaker)
        self.queues: list[asyncio.Queue[Inbound]] = [asyncio.Queue() for _ in range(settings.iot_shards)]
        self.totals: Counter[str] = Counter()  # accepted + rejection reasons since start (tests, logs)
        self.connected = asyncio.Event()  # subscribed: messages flow
        self.restored = asyncio.Event()  # every shard has its edge nodes' saved sessions back
        self._shards_restored = 0
        self._client: mqtt.Client | None = None
        self._connection = 0  # counts the broker's CONNACKs: a packet identifier means something on one only
        self._deliveries = 0  # counts the messages received, in paho's order
        self._acknowledgements = InOrderAcknowledgements(self._send_puback)
        self._live = live.LivePublisher(redis)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, ingest until ``stop`` is set, then announce STATE offline and disconnect.

        A worker that ends by an error stops the bridge and is raised: the process exits, its supervisor
        starts it again, and the restarted bridge takes up its saved sessions and the broker's redeliveries
        (the crash path the bridge is built for) instead of running on with a shard nobody serves."""
        today = utcnow().date()
        async with self.sessionmaker() as session, session.begin():
            await ensure_partitions(session, today=today, retention_days=self.settings.iot_telemetry_retention_days)
            open_pairs = await alarms.open_alarm_pairs(session)
        born_at = int(utcnow().timestamp() * 1000)
        driver = self._connect(born_at)
        self._client = driver.client
        workers = [asyncio.create_task(self._work(index, set(open_pairs))) for index in range(len(self.queues))]
        workers.append(asyncio.create_task(self._send_commands()))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([stopping, *workers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stopping, *workers):
                task.cancel()
            ended = await asyncio.gather(*workers, return_exceptions=True)
            await self._announce_offline(born_at)
            await driver.stop()
        for outcome in ended:
            if isinstance(outcome, Exception):
                log.error("an iot bridge worker failed; the bridge stops", exc_info=outcome)
                raise outcome

    async def _announce_offline(self, born_at: int) -> None:
        """STATE offline before a clean stop; without a broker to tell, the will set at connect says it."""
        assert self._client is not None
        offline = self._client.publish(state_topic(self.settings.iot_host_id),
                                       state_payload(online=False, timestamp=born_at), qos=1, retain=True)
        if not await published(offline, 2):
            log.warning("iot bridge stopped without its broker; its will announces STATE offline")

    def _connect(self, born_at: int) -> LoopDriver:
        host_id = self.settings.iot_host_id
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{host_id}-bridge",
                             clean_session=not self.persistent_session,
                             protocol=mqtt.MQTTv311, manual_ack=True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        client.will_set(state_topic(host_id), state_payload(online=False, timestamp=born_at), qos=1, retain=True)
        client.max_queued_messages_set(0)

        def on_connect(client: mqtt.Client, _userdata: object, _flags: object, reason: object, _props: object) -> None:
            self._connection += 1
            client.subscribe([(topic_filter, 1) for topic_filter in self.topic_filters])
            client.publish(state_topic(host_id), state_payload(online=True, timestamp=born_at), qos=1, retain=True)
            log.info("iot bridge connected", extra={"reason": str(reason)})

        def on_subscribe(_client: mqtt.Client, _userdata: object, _mid: int, _codes: object, _props: object) -> None:
            self.connected.set()

        def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
            self._deliveries += 1
            self._take(Inbound(message.topic, message.payload, message.mid, message.qos, bool(message.dup),
                               self._connection, self._deliveries))

        def on_disconnect(_client: mqtt.Client, _userdata: object, _flags: object, reason: ReasonCode,
                          _props: object) -> None:
            """Logged: a lost connection (keepalive, broker restart) means redeliveries, marked DUP, to come."""
            level = logging.WARNING if reason.is_failure else logging.INFO
            log.log(level, "iot bridge disconnected; reconnecting unless stopping", extra={"reason": str(reason)})

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_message = on_message
        client.on_subscribe = on_subscribe
        return LoopDriver(client, self.broker)

    def _take(self, inbound: Inbound) -> None:
        """A message as paho read it: to its shard, and in line for its acknowledgement."""
        self._acknowledgements.delivered(inbound)
        self.queues[self._shard_of(shard_key(inbound.topic))].put_nowait(inbound)

    def _shard_of(self, key: str) -> int:
        return zlib.crc32(key.encode()) % len(self.queues)

    async def _work(self, index: int, open_alarms: set[tuple]) -> None:
        queue = self.queues[index]
        ingestor = Ingestor(self.directory, retention_days=self.settings.iot_telemetry_retention_days)
        ingestor.alarms.active |= open_alarms
        reorder = await until_done(lambda: self._restore_shard(index, ingestor), log=log,
                                   failure="iot bridge could not restore a shard's sessions; retrying")
        self._shards_restored += 1
        if self._shards_restored == len(self.queues):
            self.restored.set()
        last_offline_check = utcnow()
        while True:
            reraise_if_cancelling()
            batch = await self._take_batch(queue)
            now, effects = utcnow(), Effects()
            for late in reorder.expired():  # waited for predecessors in vain: on as they are
                await self._ingest_in_order(ingestor, reorder, [late], effects, now)
            for message in batch:
                if message.dup and (reorder.already_ingested(message)
                                     or ingestor.copy_of_json_ingested(message.topic, message.payload)):
                    effects.rejected["already_stored"] += 1
                    continue
                await self._ingest_in_order(ingestor, reorder, reorder.offer(message), effects, now)
            if (now - last_offline_check).total_seconds() >= OFFLINE_CHECK_SECONDS:
                effects.transitions.extend(ingestor.check_offline(now))
                last_offline_check = now
            effects.held = reorder.take_changes()
            await self._store(effects, ingestor, now)
            await self._publish(ingestor, effects, now)
            # ingested, or held, and stored either way: the broker may forget them, in the order it sent them
            self._acknowledgements.done(batch, self._connection)

    async def _restore_shard(self, index: int, ingestor: Ingestor) -> Reorder[Inbound]:
        """The saved sessions and held messages of the edge nodes shard ``index`` owns."""
        def owned(key: str) -> bool:
            return self._shard_of(key) == index

        reorder: Reorder[Inbound] = Reorder(ingestor.tracker, timeout_s=self.settings.iot_reorder_timeout_seconds)
        async with self.sessionmaker() as session:
            await saved_sessions.restore(session, ingestor.tracker, owned)
            await held_messages.restore(session, reorder, owned, _restored)
        return reorder

    def _send_puback(self, mid: int, qos: int) -> None:
        self._client.ack(mid, qos)  # type: ignore[union-attr]

    @staticmethod
    async def _ingest_in_order(ingestor: Ingestor, reorder: Reorder[Inbound], ready: list[Inbound],
                               effects: Effects, now: dt.datetime) -> None:
        """Ingest what may go now, each followed by the held messages it was the missing predecessor of."""
        pending = deque(ready)
        while pending:
            message = pending.popleft()
            try:
                await ingestor.ingest(message.topic, message.payload, effects, now=now)
            except Exception:  # a message the bridge's code fails on: refused, the shard goes on
                reraise_if_cancelling()
                log.exception("iot bridge could not ingest a message; refused", extra={"topic": message.topic})
                effects.rejected["ingest_error"] += 1
            pending.extend(reorder.after(message))

    async def _take_batch(self, queue: asyncio.Queue[Inbound]) -> list[Inbound]:
        """What is queued, up to the batch size; waits at most the flush interval for the first message.

        ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` drops a cancellation that arrives as
        the message does, and the stopped worker would then wait for messages forever."""
        try:
            async with asyncio.timeout(self.settings.iot_flush_seconds):
                batch = [await queue.get()]
        except TimeoutError:
            return []
        while len(batch) < self.settings.iot_batch_rows and not queue.empty():
            batch.append(queue.get_nowait())
        return batch

    async def _store(self, effects: Effects, ingestor: Ingestor, now: dt.datetime) -> None:
        """One transaction for the batch, retried until the database takes it (order is kept meanwhile)."""
        if effects.has_writes():
            await until_done(lambda: self._write(effects, ingestor, now), log=log,
                             failure="iot bridge could not store a batch; retrying")

    async def _write(self, effects: Effects, ingestor: Ingestor, now: dt.datetime) -> None:
        async with self.sessionmaker() as session, session.begin():
            if effects.rows:
                await copy_rows(session, effects.rows)
                await production.apply_telemetry(session, effects.rows)
            await alarms.apply_transitions(session, effects.transitions)
            for org_id, device_code, answer in effects.command_answers:
                await commands.acknowledge(session, org_id=org_id, device_code=device_code, answer=answer)
            for device_id, reported in effects.reported_attributes.items():
                await session.execute(update(Device).where(Device.id == device_id).values(
                    reported_attributes=Device.reported_attributes.op("||")(reported)))
            await reconcile.resend_desired(session, device_ids=list(effects.reported_attributes))
            await saved_sessions.save(session, ingestor.tracker, effects.births, effects.touched)
            await held_messages.save(session, effects.held, self._org_of_edge_node, now)

    async def _org_of_edge_node(self, group_id: str, edge_node_id: str) -> uuid.UUID | None:
        edge = await self.directory.edge_node(group_id, edge_node_id)
        return edge.org_id if edge is not None else None

    async def _send_commands(self) -> None:
        """Publish pending commands (then marked sent) and time out unanswered ones."""
        while True:
            reraise_if_cancelling()
            await asyncio.sleep(COMMAND_POLL_SECONDS)
            try:
                async with self.sessionmaker() as session, session.begin():
                    await commands.expire(session, now=utcnow())
                    outgoing = await commands.take_pending(session)
            except Exception:
                reraise_if_cancelling()
                log.exception("iot bridge could not read pending commands")
                continue
            for command in outgoing:
                topic, body = self._command_message(command)
                self._client.publish(topic, body, qos=1)  # type: ignore[union-attr]

    @staticmethod
    def _command_message(command: commands.OutgoingCommand) -> tuple[str, bytes]:
        if command.group_id is None or command.edge_node_id is None:
            body = {"correlation_id": str(command.correlation_id), "name": command.name, "params": command.params}
            return plain_topic(command.org_id, command.device_code, TopicKind.COMMANDS), json.dumps(body).encode()
        now = int(utcnow().timestamp() * 1000)
        payload = Payload(timestamp=now, seq=None, metrics=command.sparkplug_metrics(now))
        topic = device_topic(command.group_id, MessageType.DCMD, command.edge_node_id, command.device_code)
        return topic, encode_payload(payload)

    async def _publish(self, ingestor: Ingestor, effects: Effects, now: dt.datetime) -> None:
        seen = ingestor.last_seen
        try:
            await self._live.publish_batch(
                now=now, rejected=effects.rejected, rows=effects.rows,
                online={d: (seen[d][0].org_id, flag) for d, flag in effects.online.items() if d in seen})
        except Exception:  # live state is a cache: the data is safe in PostgreSQL
            reraise_if_cancelling()
            log.exception("iot bridge could not update Redis")
        for topic in effects.rebirths:
            self._client.publish(  # type: ignore[union-attr]
                node_topic(topic.group_id, MessageType.NCMD, topic.edge_node_id),
                rebirth_request(int(now.timestamp() * 1000)), qos=0)
        self.totals.update(effects.rejected)
        self.totals["accepted"] += effects.accepted
        MESSAGES.labels("accepted").inc(effects.accepted)
        for reason, count in effects.rejected.items():
            REJECTED.labels(reason).inc(count)
