"""The embedded MQTT broker: amqtt (pure Python) for a machine where no TRADELOOM_MQTT_URL is set.

``tradeloom serve`` runs it as a child process (``python -m iot_bridge.embedded_broker``) so a fresh
machine has live devices without installing Mosquitto. It allows anonymous clients and keeps no
password file: it is for one machine's loopback only. With the URL set (Mosquitto, EMQX) it is not used.
"""

import argparse
import asyncio
import logging
from collections.abc import Callable
from typing import Any

from amqtt.broker import Broker

from iot_bridge.running import until_stopped

EMBEDDED_HOST = "127.0.0.1"
EMBEDDED_PORT = 18830  # not 1883, which a real broker on the same machine may hold
EMBEDDED_MQTT_URL = f"mqtt://{EMBEDDED_HOST}:{EMBEDDED_PORT}"


def broker_config(host: str = EMBEDDED_HOST, port: int = EMBEDDED_PORT) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 1000}},
        # only anonymous access: no packet logging and no $SYS statistics topics, which cost time per message
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


async def serve_broker(host: str = EMBEDDED_HOST, port: int = EMBEDDED_PORT,
                       on_ready: Callable[[], None] | None = None) -> None:
    """Accept MQTT clients until cancelled; ``on_ready`` is called once the port listens."""
    broker = Broker(broker_config(host, port))
    await broker.start()
    if on_ready is not None:
        on_ready()
    try:
        await asyncio.Event().wait()
    finally:
        await broker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=EMBEDDED_HOST)
    parser.add_argument("--port", type=int, default=EMBEDDED_PORT)
    arguments = parser.parse_args()
    logging.getLogger("amqtt").setLevel(logging.WARNING)  # it logs every connection at INFO
    asyncio.run(until_stopped(serve_broker(arguments.host, arguments.port)))


if __name__ == "__main__":
    main()
