"""The IoT benchmarks' child processes: a private Mosquitto and ``tradeloom iot-bridge``, both with their CPU
time added up over restarts, so a figure per message can include the broker's share."""

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from iot_bridge.edge.mqtt import BrokerAddress, close_client
from iot_bridge.sparkplug import state_topic
from tradeloom.net import free_port

# QoS 1 messages the broker may have unacknowledged at the bridge: the bridge acknowledges after each batch's
# commit, so this bounds a batch (Mosquitto's default of 20 would cap the bridge at 20 messages per commit).
# Not 0 (no limit): Mosquitto then reuses packet identifiers still in flight (decision 0029).
INFLIGHT = 2000
# Mosquitto writes its whole in-memory store at each autosave: every second, over a backlog of hundreds of
# thousands of queued messages, that is most of the broker's time. A clean stop (the bench's restart) saves anyway.
AUTOSAVE_S = 60


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Mosquitto:
    """A private broker: persistence on, no limit on queued QoS 1 messages of a persistent session, its log
    (connections, and why they ended) in ``mosquitto.log`` beside its configuration.

    It runs as the bench's own user: started as root, Mosquitto would otherwise switch to the ``mosquitto``
    user, which may not write into the bench's private folder, and then keeps no session over a restart."""

    def __init__(self, folder: Path, autosave_s: int = AUTOSAVE_S, credentials: Path | None = None) -> None:
        """``credentials``: a folder of ``tradeloom iot-bridge broker-files`` to enforce (else anonymous)."""
        self.port = free_port()
        self.cpu_seconds = 0.0  # of the runs that ended (user + system)
        self._config = folder / "mosquitto.conf"
        self._saved = folder / "mosquitto.db"
        access = ("allow_anonymous true\n" if credentials is None else
                  f"allow_anonymous false\npassword_file {credentials / 'tradeloom.passwd'}\n"
                  f"acl_file {credentials / 'tradeloom.acl'}\n")
        self._config.write_text(
            f"listener {self.port} 127.0.0.1\n{access}user {getpass.getuser()}\npersistence true\n"
            f"persistence_location {folder}/\nmax_queued_messages 0\nmax_inflight_messages {INFLIGHT}\n"
            f"autosave_interval {autosave_s}\nlog_dest file {folder}/mosquitto.log\n")
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(["mosquitto", "-c", str(self._config)],  # noqa: S603,S607
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._process is not None:
            self.cpu_seconds += process_cpu_seconds(self._process.pid)
            self._process.terminate()
            self._process.wait(30)
            self._process = None
            if not self._saved.exists():  # a restart would then drop every session: not the fault meant
                raise RuntimeError(f"the broker saved no sessions in {self._saved}")

    @property
    def address(self) -> BrokerAddress:
        return BrokerAddress("127.0.0.1", self.port)


def wait_for_port(port: int, limit_s: float = 20) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_until_online(broker: BrokerAddress, client_id: str, host_id: str, limit_s: float = 60) -> None:
    """Until the bridge announced STATE online (it subscribes first): what the fleet sends before that reaches
    no session, since the bridge's persistent session only exists once it has subscribed."""
    online = threading.Event()
    client = broker.client(client_id)
    client.on_message = lambda c, u, m: online.set() if json.loads(m.payload or b"{}").get("online") else None
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(state_topic(host_id), qos=1)
    try:
        if not online.wait(limit_s):
            raise RuntimeError(f"the bridge did not come online within {limit_s:.0f} s")
    finally:
        close_client(client)


@dataclass
class Bridge:
    """``tradeloom iot-bridge`` as a child process, so it can be killed for real."""

    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    cpu_seconds: float = 0.0  # of the processes that ended (user + system)

    def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tradeloom.cli", "iot-bridge"], env=self.env)

    def kill(self) -> None:
        assert self.process is not None
        self.cpu_seconds += process_cpu_seconds(self.process.pid)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.cpu_seconds += process_cpu_seconds(self.process.pid)
            self.process.terminate()
            self.process.wait(30)
