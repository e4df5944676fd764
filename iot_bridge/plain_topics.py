"""Plain MQTT JSON topics for simple sensors: ``tl/{org id}/{device code}/telemetry|attributes|commands``.

Payloads (JSON objects):
- telemetry: ``{"ts": <ms since epoch, optional>, "seq": <int, optional>, "values": {"<key>": <value>, ...}}``;
- attributes: ``{"<reported attribute>": <value>, ...}``;
- commands (published by the platform): ``{"correlation_id": "...", "name": "...", "params": {...}}``, answered
  by the device on ``…/commands/ack`` with ``{"correlation_id": "...", "ok": true|false, "detail": "..."}``.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "tl"


class TopicKind(StrEnum):
    TELEMETRY = "telemetry"
    ATTRIBUTES = "attributes"
    COMMANDS = "commands"
    COMMAND_ACK = "commands/ack"


@dataclass(frozen=True, slots=True)
class PlainTopic:
    org_id: uuid.UUID
    device_code: str
    kind: TopicKind

    def __str__(self) -> str:
        return f"{PREFIX}/{self.org_id}/{self.device_code}/{self.kind.value}"


def plain_topic(org_id: uuid.UUID, device_code: str, kind: TopicKind) -> str:
    return str(PlainTopic(org_id, device_code, kind))


def parse_plain_topic(topic: str) -> PlainTopic | None:
    """The parsed topic, or None when it is not one of ours."""
    parts = topic.split("/", 3)
    if len(parts) != 4 or parts[0] != PREFIX or not parts[2]:
        return None
    try:
        return PlainTopic(uuid.UUID(parts[1]), parts[2], TopicKind(parts[3]))
    except ValueError:
        return None


def subscriptions() -> list[str]:
    """What the bridge subscribes to (commands are the platform's own; their acks are not)."""
    return [f"{PREFIX}/+/+/{TopicKind.TELEMETRY.value}", f"{PREFIX}/+/+/{TopicKind.ATTRIBUTES.value}",
            f"{PREFIX}/+/+/{TopicKind.COMMAND_ACK.value}"]
