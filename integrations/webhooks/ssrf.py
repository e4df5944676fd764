"""Refuse webhook targets inside our network (server-side request forgery), unless allow-listed.

Checked when a subscription is saved and again before every delivery (a name may be re-pointed at an
internal address after it was accepted).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from tradeloom.errors import Invalid


def _is_internal(address: str) -> bool:
    """Anything not globally routable: private, loopback, link-local, shared, reserved, multicast."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_target(url: str, *, allowed_hosts: frozenset[str], what: str = "webhook") -> None:
    """422 unless ``url`` is http(s) to a public address, or its host is in the allow-list.

    ``what`` names the caller in messages and codes (``webhook_target_forbidden``, ``connector_…``).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"{what.capitalize()} URLs must be absolute http(s) URLs.", code=f"{what}_url_invalid")
    if parts.username or parts.password:
        raise Invalid(f"{what.capitalize()} URLs must not carry credentials.", code=f"{what}_url_invalid")
    if parts.hostname.lower() in allowed_hosts:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Invalid(f"{what.capitalize()} host {parts.hostname} does not resolve.",
                      code=f"{what}_host_unknown") from exc
    resolved = {str(info[4][0]).split("%")[0] for info in infos}
    internal = sorted(address for address in resolved if _is_internal(address))
    if internal:
        raise Invalid(f"{what.capitalize()} host {parts.hostname} points inside a private network "
                      f"({', '.join(internal)}).", code=f"{what}_target_forbidden")
