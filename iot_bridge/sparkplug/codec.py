"""Sparkplug B payloads as plain dataclasses, to and from the Tahu protobuf wire format.

The generated ``sparkplug_b_pb2`` stays behind this module: callers (the host application here, the edge
agent and the simulator) see ``Payload``/``Metric`` with Python values. Data messages may carry only an
alias and no datatype (the birth certificate told them once), so decoding takes the ``AliasTable`` of the
matching birth and resolves names and types from it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple

from google.protobuf.message import DecodeError

from iot_bridge.sparkplug import sparkplug_b_pb2 as pb

# Sparkplug 3.0 §6.4.16: the Node Control metrics every edge node publishes in NBIRTH and accepts in NCMD.
BD_SEQ = "bdSeq"
NODE_REBIRTH = "Node Control/Rebirth"
SEQ_MODULUS = 256  # the payload seq runs 0..255 and wraps (NBIRTH carries 0)
INT64_MAX = (1 << 63) - 1  # Sparkplug's Int64, and PostgreSQL's bigint


class DataType(IntEnum):
    """The Sparkplug B ``DataType`` enum (scalar types; arrays, datasets and templates are not used here)."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15
    BYTES = 17


class SparkplugError(ValueError):
    """A payload that is not valid Sparkplug B (truncated, wrong value type, unknown alias...)."""


Value = int | float | bool | str | bytes | None

_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_UNSIGNED_BITS = {DataType.UINT8: 8, DataType.UINT16: 16, DataType.UINT32: 32, DataType.UINT64: 64,
                  DataType.DATETIME: 64}
_WIDE = {DataType.INT64, DataType.UINT64, DataType.DATETIME}
_STRINGS = {DataType.STRING, DataType.TEXT, DataType.UUID}
# Which protobuf oneof field carries each datatype's value (spec §6.4.16).
_VALUE_FIELD = {
    **{t: "int_value" for t in (DataType.INT8, DataType.INT16, DataType.INT32,
                                 DataType.UINT8, DataType.UINT16, DataType.UINT32)},
    **{t: "long_value" for t in _WIDE},
    DataType.FLOAT: "float_value",
    DataType.DOUBLE: "double_value",
    DataType.BOOLEAN: "boolean_value",
    **{t: "string_value" for t in _STRINGS},
    DataType.BYTES: "bytes_value",
}


class Metric(NamedTuple):
    """One metric: ``name`` (births, or no aliases) and/or ``alias``, a datatype and a value.

    A named tuple rather than a frozen dataclass: the bridge builds one per metric of every message, and a
    tuple is built in half the time."""

    name: str | None
    value: Value
    datatype: DataType = DataType.UNKNOWN
    alias: int | None = None
    timestamp: int | None = None  # ms since the epoch
    is_historical: bool = False  # store-and-forward data replayed after an outage
    is_transient: bool = False
    is_null: bool = False


@dataclass(frozen=True, slots=True)
class Payload:
    """A Sparkplug B payload: timestamp (ms), seq (0..255; absent on NDEATH and STATE) and metrics."""

    timestamp: int | None
    seq: int | None
    metrics: tuple[Metric, ...] = ()
    uuid: str | None = None
    body: bytes | None = None

    def metric(self, name: str) -> Metric | None:
        """The first metric of that name (births name every metric)."""
        return next((m for m in self.metrics if m.name == name), None)


@dataclass
class AliasTable:
    """Alias → (name, datatype), learnt from a birth certificate (NBIRTH or DBIRTH)."""

    entries: dict[int, tuple[str, DataType]] = field(default_factory=dict)
    datatypes: dict[str, DataType] = field(default_factory=dict)

    @classmethod
    def from_birth(cls, birth: Payload) -> "AliasTable":
        table = cls()
        for metric in birth.metrics:
            if metric.name is None:
                raise SparkplugError("a birth certificate metric has no name")
            table.datatypes[metric.name] = metric.datatype
            if metric.alias is not None:
                table.entries[metric.alias] = (metric.name, metric.datatype)
        return table

    def resolve(self, name: str | None, alias: int | None) -> tuple[str, DataType]:
        if alias is not None and alias in self.entries:
            return self.entries[alias]
        if name is not None and name in self.datatypes:
            return name, self.datatypes[name]
        raise SparkplugError(f"metric {name or alias!r} was not in the birth certificate")


def next_seq(seq: int) -> int:
    """The seq expected after ``seq`` (wraps 255 → 0)."""
    return (seq + 1) % SEQ_MODULUS


def seq_behind(seq: int, expected: int) -> bool:
    """``seq`` came before ``expected``: at most half the wrapping seq space back (further is ahead)."""
    return 0 < (expected - seq) % SEQ_MODULUS <= SEQ_MODULUS // 2


def seqs_between(first: int, after_last: int) -> list[int]:
    """The seqs from ``first`` up to, not including, ``after_last`` (across the wrap)."""
    return [(first + step) % SEQ_MODULUS for step in range((after_last - first) % SEQ_MODULUS)]


def encode_payload(payload: Payload) -> bytes:
    """Serialize to Sparkplug B protobuf bytes; a value that does not fit its datatype raises SparkplugError."""
    message = pb.Payload()
    if payload.timestamp is not None:
        message.timestamp = payload.timestamp
    if payload.seq is not None:
        message.seq = payload.seq
    if payload.uuid is not None:
        message.uuid = payload.uuid
    if payload.body is not None:
        message.body = payload.body
    for metric in payload.metrics:
        _fill_metric(message.metrics.add(), metric)
    return message.SerializeToString()


def _fill_metric(out: Any, metric: Metric) -> None:
    if metric.name is not None:
        out.name = metric.name
    if metric.alias is not None:
        out.alias = metric.alias
    if metric.timestamp is not None:
        out.timestamp = metric.timestamp
    if metric.datatype is not DataType.UNKNOWN:
        out.datatype = int(metric.datatype)
    if metric.is_historical:
        out.is_historical = True
    if metric.is_transient:
        out.is_transient = True
    if metric.is_null or metric.value is None:
        out.is_null = True
        return
    setattr(out, _value_field(metric.datatype), _to_wire(metric.datatype, metric.value))


def _value_field(datatype: DataType) -> str:
    try:
        return _VALUE_FIELD[datatype]
    except KeyError:
        raise SparkplugError(f"unsupported Sparkplug datatype {datatype!r}") from None


def _to_wire(datatype: DataType, value: Value) -> Value:
    """Python value → protobuf field value; signed integers travel as two's complement (spec 3.0)."""
    if datatype in _SIGNED_BITS or datatype in _UNSIGNED_BITS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SparkplugError(f"{datatype.name} needs an integer, got {value!r}")
        bits = _SIGNED_BITS.get(datatype) or _UNSIGNED_BITS[datatype]
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if datatype in _SIGNED_BITS else (0, (1 << bits) - 1)
        if not low <= value <= high:
            raise SparkplugError(f"{value} is out of range for {datatype.name}")
        return value & ((1 << 64) - 1 if datatype in _WIDE else (1 << 32) - 1)
    if datatype in (DataType.FLOAT, DataType.DOUBLE):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SparkplugError(f"{datatype.name} needs a number, got {value!r}")
        return float(value)
    expected: type = {DataType.BOOLEAN: bool, DataType.BYTES: bytes}.get(datatype, str)
    if not isinstance(value, expected):
        raise SparkplugError(f"{datatype.name} needs {expected.__name__}, got {value!r}")
    return value


def decode_payload(data: bytes, aliases: AliasTable | None = None) -> Payload:
    """Parse Sparkplug B bytes; with ``aliases`` (from the birth) names and datatypes are filled in.

    Raises SparkplugError for truncated or malformed bytes and for values whose wire type does not match
    their datatype: the bridge counts and drops such messages.
    """
    message = pb.Payload()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise SparkplugError(f"not a Sparkplug B payload: {exc}") from None
    seq = message.seq if message.HasField("seq") else None
    if seq is not None and seq >= SEQ_MODULUS:
        raise SparkplugError(f"seq {seq} is beyond {SEQ_MODULUS - 1}")
    metrics = tuple(_read_metric(raw, aliases) for raw in message.metrics)
    return Payload(
        timestamp=message.timestamp if message.HasField("timestamp") else None,
        seq=seq,
        metrics=metrics,
        uuid=message.uuid if message.HasField("uuid") else None,
        body=message.body if message.HasField("body") else None,
    )


def _read_metric(raw: Any, aliases: AliasTable | None) -> Metric:
    """One metric of a parsed message (the bridge reads every metric of every message: the ``Metric`` is built
    positionally, a fifth faster than by keywords)."""
    has = raw.HasField
    name = raw.name if has("name") else None
    alias = raw.alias if has("alias") else None
    datatype = _datatype(raw.datatype) if has("datatype") else DataType.UNKNOWN
    if aliases is not None and (datatype is DataType.UNKNOWN or name is None):
        name, datatype = aliases.resolve(name, alias)
    if name is None and alias is None:
        raise SparkplugError("a metric has neither name nor alias")
    is_null = raw.is_null
    carried = raw.WhichOneof("value")
    if is_null or carried is None:
        value: Value = None
        is_null = True
    elif datatype is DataType.UNKNOWN:
        raise SparkplugError(f"metric {name or alias!r} has a value but no datatype")
    elif carried != _value_field(datatype):
        raise SparkplugError(f"metric {name or alias!r} is {datatype.name} but carries {carried}")
    else:
        value = _from_wire(datatype, getattr(raw, carried))
    return Metric(name, value, datatype, alias, raw.timestamp if has("timestamp") else None, raw.is_historical,
                  raw.is_transient, is_null)


_DATATYPES = {int(datatype): datatype for datatype in DataType}


def _datatype(code: int) -> DataType:
    datatype = _DATATYPES.get(code)
    if datatype is None:
        raise SparkplugError(f"unsupported Sparkplug datatype {code}")
    return datatype


def _from_wire(datatype: DataType, value: Value) -> Value:
    if datatype in _SIGNED_BITS:
        assert isinstance(value, int)
        bits = _SIGNED_BITS[datatype]
        value &= (1 << bits) - 1
        return value - (1 << bits) if value >= 1 << (bits - 1) else value
    return value


def metrics_by_name(metrics: Iterable[Metric]) -> dict[str, Value]:
    """Name → value of the named, non-null metrics (last one wins)."""
    return {m.name: m.value for m in metrics if m.name is not None and not m.is_null}


def rebirth_request(timestamp: int) -> bytes:
    """The NCMD payload a host application sends to ask an edge node to publish its births again."""
    return encode_payload(Payload(
        timestamp=timestamp, seq=None,
        metrics=(Metric(name=NODE_REBIRTH, value=True, datatype=DataType.BOOLEAN, timestamp=timestamp),),
    ))
