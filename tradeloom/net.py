"""Local networking helpers for the embedded services, the benches and the tests."""

import socket
from pathlib import Path

OUTGOING_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_UNPRIVILEGED_PORT = 1024


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_block(span: int) -> int:
    """The first of ``span`` consecutive loopback ports nobody uses now, below the range the OS hands out to
    outgoing connections.

    For servers started one after another over seconds (the device simulator's Modbus and OPC UA servers): a
    port from ``free_port`` lies in that range, and by the time its server binds, a client's connection may
    have been given it (seen: ``EADDRINUSE`` for an OPC UA server while thousands of devices connected).
    """
    lowest_outgoing = int(OUTGOING_PORTS.read_text().split()[0]) if OUTGOING_PORTS.exists() else 32768
    for base in range(lowest_outgoing - span, LOWEST_UNPRIVILEGED_PORT, -span):
        if all(_bindable(port) for port in range(base, base + span)):
            return base
    raise OSError(f"no {span} consecutive free ports below {lowest_outgoing}")


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is no obstacle
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
