"""``Tradeloom-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`` — as receivers check it.

Receivers must recompute the HMAC over the raw body, compare in constant time, and refuse a timestamp
older than ``REPLAY_WINDOW_SECONDS`` (five minutes) to stop replays.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Tradeloom-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def signature_is_valid(secret: str, body: bytes, header: str, *, now: int | None = None) -> bool:
    """What a receiver does: parse, check freshness, recompute, compare in constant time."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    moment = int(parts["t"])
    if abs((int(time.time()) if now is None else now) - moment) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(signature_header(secret, body, moment), f"t={moment},v1={parts['v1']}")
