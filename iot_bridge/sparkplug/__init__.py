"""Sparkplug B: the Tahu protobuf payload codec and topic names (used by the host and by the edge agent)."""

from iot_bridge.sparkplug.codec import (
    BD_SEQ,
    INT64_MAX,
    NODE_REBIRTH,
    SEQ_MODULUS,
    AliasTable,
    DataType,
    Metric,
    Payload,
    SparkplugError,
    decode_payload,
    encode_payload,
    metrics_by_name,
    next_seq,
    rebirth_request,
    seq_behind,
    seqs_between,
)
from iot_bridge.sparkplug.topic import (
    MessageType,
    SparkplugTopic,
    TopicError,
    device_topic,
    node_topic,
    parse_topic,
    state_payload,
    state_topic,
)

__all__ = [
    "BD_SEQ", "INT64_MAX", "NODE_REBIRTH", "SEQ_MODULUS", "AliasTable", "DataType", "MessageType", "Metric",
    "Payload", "SparkplugError", "SparkplugTopic", "TopicError", "decode_payload", "device_topic",
    "encode_payload", "metrics_by_name", "next_seq", "node_topic", "parse_topic", "rebirth_request",
    "seq_behind", "seqs_between", "state_payload", "state_topic",
]
