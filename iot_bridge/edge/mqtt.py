"""Where the MQTT broker is: ``mqtt://[user:password@]host[:port]`` (TRADELOOM_MQTT_URL or a config file)."""

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

DEFAULT_PORT = 1883
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"  # a broker on this machine, when nothing is configured
# paho drops a connection whose PINGRESP takes longer than this. Mosquitto answers none while it writes its
# store (autosave); with a backlog that took tens of seconds, and at 30 s every client timed out at each save
# and reconnected (the bridge had the whole window sent again, an edge node starts a new session). 60 s is
# paho's own default; the broker still notices a client gone silent within 1.5 times it (a crashed one at
# once: its socket closes).
KEEPALIVE_SECONDS = 60


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
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        return client


def close_client(client: mqtt.Client) -> None:
    """Disconnect and join paho's network thread (blocking: call it off the event loop)."""
    client.disconnect()
    client.loop_stop()
