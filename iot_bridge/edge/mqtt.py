"""Where the MQTT broker is (``mqtt://[user:password@]host[:port]``, TRADELOOM_MQTT_URL or a config file), and
how a paho client runs on the asyncio loop (``LoopDriver``)."""

import asyncio
import contextlib
import logging
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

DEFAULT_PORT = 1883
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"  # a broker on this machine, when nothing is configured
# paho drops a connection whose PINGRESP takes longer than this. Mosquitto answers none while it writes its
# store (autosave); with a backlog that took tens of seconds, and at 30 s every client timed out at each save
# and reconnected (the bridge had the whole window sent again, an edge node starts a new session). 60 s is
# paho's own default; the broker still notices a client gone silent within 1.5 times it (a crashed one at
# once: its socket closes).
KEEPALIVE_SECONDS = 60
RECONNECT_MIN_SECONDS = 1.0  # after a lost connection; doubled after each failed attempt, as paho's own loop does
RECONNECT_MAX_SECONDS = 5.0
MISC_SECONDS = 1.0  # how often keepalive is looked after (paho's loop_misc)
PUBLISHED_POLL_SECONDS = 0.01
READ_BURST = 1000  # packets read at most in one turn of the loop (the rest waits for the next turn)
DISCONNECT_SECONDS = 2.0  # how long ``stop`` waits for its DISCONNECT to be written

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int = DEFAULT_PORT
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> "BrokerAddress":
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"not an MQTT broker URL (mqtt://host:port): {url!r}")
        return cls(parts.hostname, parts.port or DEFAULT_PORT,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    def client(self, client_id: str, *, clean_session: bool = True) -> mqtt.Client:
        """A paho client (MQTT 3.1.1) for this broker, not yet connected."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                             protocol=mqtt.MQTTv311)
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        client.max_inflight_messages_set(100)
        client.reconnect_delay_set(min_delay=int(RECONNECT_MIN_SECONDS), max_delay=int(RECONNECT_MAX_SECONDS))
        return client


def close_client(client: mqtt.Client) -> None:
    """Disconnect and join paho's network thread (blocking: call it off the event loop)."""
    client.disconnect()
    client.loop_stop()


async def published(info: mqtt.MQTTMessageInfo, seconds: float) -> bool:
    """Whether the broker acknowledged the message within ``seconds`` (the loop drives the client meanwhile);
    False too when paho could not send it (not connected)."""
    try:
        async with asyncio.timeout(seconds):
            while not info.is_published():  # noqa: ASYNC110 - paho signals it through a threading.Condition only
                await asyncio.sleep(PUBLISHED_POLL_SECONDS)
    except (TimeoutError, RuntimeError, ValueError):  # paho: not connected, or its queue was full
        return False
    return True


class LoopDriver:
    """Runs a paho client on the running asyncio loop instead of paho's network thread (decision 0035).

    In threaded mode every publish wakes paho's thread through a socket pair and every callback crosses
    threads; with the simulator's dozens of clients that cost ~280 µs of CPU per QoS 1 message, against
    ~43 µs here. This uses paho's external-loop interface: the loop watches the socket and calls
    ``loop_read``/``loop_write``, ``loop_misc`` runs every second (keepalive), and every callback runs on
    the loop. A refused or lost connection is tried again (1 s, doubling to 5 s) until ``stop``. The TCP
    connect itself blocks, so it runs in a worker thread: an unreachable broker does not stall the loop.
    """

    def __init__(self, client: mqtt.Client, broker: BrokerAddress, *, keepalive: int = KEEPALIVE_SECONDS) -> None:
        self.client = client
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closed = asyncio.Event()  # the current socket was closed (lost, refused or disconnected)
        self._was_connected = False  # whether the closed socket had carried a session (CONNACK accepted)
        self._connecting: asyncio.Future[Any] | None = None
        client.on_socket_open = lambda _c, _u, sock: self._on_loop(self._watch, sock)
        client.on_socket_close = lambda _c, _u, sock: self._on_loop(self._unwatch, sock)
        client.on_socket_register_write = lambda _c, _u, sock: self._on_loop(self._watch_write, sock)
        client.on_socket_unregister_write = lambda _c, _u, sock: self._on_loop(self._loop.remove_writer, sock)
        client.connect_async(broker.host, broker.port, keepalive=keepalive)
        self._task = self._loop.create_task(self._stay_connected())

    async def stop(self) -> None:
        """Stop reconnecting; DISCONNECT if connected (the broker then discards the will)."""
        connecting = self._connecting
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if connecting is not None:  # a connect under way in its thread: let it finish, then disconnect
            with contextlib.suppress(OSError):
                await connecting
        if self.client.socket() is not None:
            self._closed.clear()
            self.client.disconnect()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DISCONNECT_SECONDS):
                    await self._closed.wait()

    def abandon(self) -> None:
        """Stop reconnecting a client whose connection is over (its owner starts a new one)."""
        self._task.cancel()

    async def _stay_connected(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            self._closed.clear()
            self._was_connected = False
            self._connecting = self._loop.run_in_executor(None, self.client.reconnect)
            try:
                await asyncio.shield(self._connecting)  # cancelled meanwhile: ``stop`` waits for it
            except OSError as exc:  # refused, unreachable, timed out
                log.debug("mqtt connect failed", extra={"error": str(exc)})
            else:
                await self._look_after_keepalive()
            finally:
                self._connecting = None
            delay = RECONNECT_MIN_SECONDS if self._was_connected else min(delay * 2, RECONNECT_MAX_SECONDS)
            await asyncio.sleep(delay)

    async def _look_after_keepalive(self) -> None:
        """Until the socket closes: PINGREQ when idle, and a dead connection noticed (paho's loop_misc)."""
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(MISC_SECONDS):
                    await self._closed.wait()
            if not self._closed.is_set():
                self.client.loop_misc()

    def _on_loop(self, callback: Callable[["SocketLike"], object], sock: "SocketLike") -> None:
        """paho calls the socket callbacks on the loop, except while connecting in the worker thread."""
        if threading.get_ident() == self._loop_thread:
            callback(sock)
        else:
            self._loop.call_soon_threadsafe(callback, sock)

    def _watch(self, sock: "SocketLike") -> None:
        if sock.fileno() >= 0:
            self._loop.add_reader(sock, self._read, sock)

    def _read(self, sock: "SocketLike") -> None:
        """What the socket holds, up to ``READ_BURST`` packets, in one turn of the loop. paho's ``loop_read``
        takes one packet; one per turn woke the bridge's workers for one message each, and batches of one
        (a transaction, a Redis pipeline) left the bridge far behind its input."""
        for _ in range(READ_BURST):
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.client.socket() is not sock \
                    or not select.select([sock], [], [], 0)[0]:
                return

    def _watch_write(self, sock: "SocketLike") -> None:
        if sock.fileno() >= 0:
            self._loop.add_writer(sock, self.client.loop_write)

    def _unwatch(self, sock: "SocketLike") -> None:
        """Called before paho closes the socket: the loop must forget it first."""
        self._was_connected = self.client.is_connected()
        self._loop.remove_reader(sock)
        self._loop.remove_writer(sock)
        self._closed.set()
