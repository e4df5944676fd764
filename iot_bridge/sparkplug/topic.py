"""Sparkplug B topic names: ``spBv1.0/{group}/{type}/{edge}[/{device}]`` and ``spBv1.0/STATE/{host}``."""

import functools
import json
from dataclasses import dataclass
from enum import StrEnum

NAMESPACE = "spBv1.0"
# Spec 3.0 §4.1.1: ids are UTF-8 strings without the MQTT separators and wildcards.
_FORBIDDEN_IN_ID = set("/+#")


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDATA = "NDATA"
    NDEATH = "NDEATH"
    DBIRTH = "DBIRTH"
    DDATA = "DDATA"
    DDEATH = "DDEATH"
    NCMD = "NCMD"
    DCMD = "DCMD"
    STATE = "STATE"

    @property
    def is_device_message(self) -> bool:
        return self in (MessageType.DBIRTH, MessageType.DDATA, MessageType.DDEATH, MessageType.DCMD)


class TopicError(ValueError):
    """Not a Sparkplug B topic name."""


@dataclass(frozen=True, slots=True)
class SparkplugTopic:
    """A parsed topic; ``device_id`` is set exactly for device messages."""

    group_id: str
    message_type: MessageType
    edge_node_id: str
    device_id: str | None = None

    def __post_init__(self) -> None:
        if self.message_type is MessageType.STATE:
            raise TopicError("STATE topics are built with state_topic()")
        for part in (self.group_id, self.edge_node_id, self.device_id):
            if part is not None:
                _check_id(part)
        if self.message_type.is_device_message != (self.device_id is not None):
            raise TopicError(f"{self.message_type} {'needs' if self.device_id is None else 'takes no'} device id")

    def __str__(self) -> str:
        parts = [NAMESPACE, self.group_id, self.message_type.value, self.edge_node_id]
        if self.device_id is not None:
            parts.append(self.device_id)
        return "/".join(parts)

    @property
    def edge_node_key(self) -> str:
        """``group/edge``: what identifies an edge node (its seq, bdSeq and order are tracked per key)."""
        return f"{self.group_id}/{self.edge_node_id}"


def _check_id(part: str) -> None:
    if not part or _FORBIDDEN_IN_ID & set(part):
        raise TopicError(f"invalid Sparkplug id {part!r}")


@functools.lru_cache(maxsize=1 << 16)
def parse_topic(topic: str) -> SparkplugTopic:
    """Parse an edge node or device topic (not STATE); raises TopicError.

    Cached: a fleet sends on the same few topics per device over and over, and a parsed topic is immutable
    (an invalid one raises every time, uncached)."""
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[0] != NAMESPACE:
        raise TopicError(f"not a Sparkplug B topic: {topic!r}")
    try:
        message_type = MessageType(parts[2])
    except ValueError:
        raise TopicError(f"unknown Sparkplug message type in {topic!r}") from None
    return SparkplugTopic(parts[1], message_type, parts[3], parts[4] if len(parts) == 5 else None)


def node_topic(group_id: str, message_type: MessageType, edge_node_id: str) -> str:
    return str(SparkplugTopic(group_id, message_type, edge_node_id))


def device_topic(group_id: str, message_type: MessageType, edge_node_id: str, device_id: str) -> str:
    return str(SparkplugTopic(group_id, message_type, edge_node_id, device_id))


def state_topic(host_id: str) -> str:
    """Where a host application announces itself (retained, QoS 1; Sparkplug 3.0)."""
    _check_id(host_id)
    return f"{NAMESPACE}/{MessageType.STATE.value}/{host_id}"


def state_payload(*, online: bool, timestamp: int) -> bytes:
    """The STATE message body (JSON, not protobuf): also the host's MQTT will with ``online`` false."""
    return json.dumps({"online": online, "timestamp": timestamp}).encode()
