"""Sparkplug B codec and topic names: round trips, aliases, signed integers, hostile payloads."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iot_bridge.sparkplug import (
    BD_SEQ,
    NODE_REBIRTH,
    AliasTable,
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugError,
    SparkplugTopic,
    TopicError,
    decode_payload,
    device_topic,
    encode_payload,
    next_seq,
    parse_topic,
    rebirth_request,
    state_topic,
)
from iot_bridge.sparkplug import sparkplug_b_pb2 as pb

BIRTH = Payload(timestamp=1_700_000_000_000, seq=0, metrics=(
    Metric(name=BD_SEQ, value=3, datatype=DataType.UINT64),
    Metric(name="Spindle/Speed", alias=1, value=1200.5, datatype=DataType.DOUBLE),
    Metric(name="good_count", alias=2, value=17, datatype=DataType.INT64),
    Metric(name="state", alias=3, value="run", datatype=DataType.STRING),
    Metric(name="offset", alias=4, value=-5, datatype=DataType.INT16),
))


class TestCodec:
    def test_birth_round_trips(self):
        assert decode_payload(encode_payload(BIRTH)) == BIRTH

    def test_data_by_alias_resolves_names_and_types_from_the_birth(self):
        # given a DDATA carrying only aliases (no name, no datatype), as edge nodes send after the birth
        message = pb.Payload(seq=1, timestamp=1)
        message.metrics.add(alias=1, double_value=99.5)
        message.metrics.add(alias=4, int_value=(-7) & 0xFFFFFFFF)
        # when
        decoded = decode_payload(message.SerializeToString(), AliasTable.from_birth(BIRTH))
        # then
        assert [(m.name, m.datatype, m.value) for m in decoded.metrics] == [
            ("Spindle/Speed", DataType.DOUBLE, 99.5), ("offset", DataType.INT16, -7),
        ]

    @given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
    def test_int64_keeps_its_sign(self, value):
        payload = Payload(timestamp=1, seq=1, metrics=(Metric(name="v", value=value, datatype=DataType.INT64),))
        assert decode_payload(encode_payload(payload)).metrics[0].value == value

    def test_historical_and_null_flags_survive(self):
        payload = Payload(timestamp=1, seq=2, metrics=(
            Metric(name="t", value=1.0, datatype=DataType.DOUBLE, timestamp=5, is_historical=True),
            Metric(name="n", value=None, datatype=DataType.DOUBLE, is_null=True),
        ))
        assert decode_payload(encode_payload(payload)) == payload

    def test_truncated_bytes_are_refused(self):
        data = encode_payload(BIRTH)
        with pytest.raises(SparkplugError, match="not a Sparkplug B payload"):
            decode_payload(data[:-3])

    def test_value_of_the_wrong_wire_type_is_refused(self):
        message = pb.Payload(seq=1)
        message.metrics.add(name="Spindle/Speed", datatype=DataType.DOUBLE, string_value="fast")
        with pytest.raises(SparkplugError, match="is DOUBLE but carries string_value"):
            decode_payload(message.SerializeToString())

    def test_seq_beyond_255_is_refused(self):
        with pytest.raises(SparkplugError, match="seq 256 is beyond 255"):
            decode_payload(pb.Payload(seq=256).SerializeToString())

    def test_unknown_alias_is_refused(self):
        message = pb.Payload(seq=1)
        message.metrics.add(alias=77, double_value=1.0)
        with pytest.raises(SparkplugError, match="not in the birth certificate"):
            decode_payload(message.SerializeToString(), AliasTable.from_birth(BIRTH))

    @pytest.mark.parametrize(("datatype", "value"), [
        (DataType.INT8, 128), (DataType.UINT16, -1), (DataType.INT32, 1.5), (DataType.BOOLEAN, 1),
        (DataType.DOUBLE, "x"), (DataType.STRING, 3),
    ])
    def test_encoding_a_value_that_does_not_fit_raises(self, datatype, value):
        with pytest.raises(SparkplugError):
            encode_payload(Payload(timestamp=1, seq=1, metrics=(Metric(name="m", value=value, datatype=datatype),)))

    def test_rebirth_request_is_a_boolean_node_control_metric(self):
        decoded = decode_payload(rebirth_request(42))
        assert decoded.metrics == (Metric(name=NODE_REBIRTH, value=True, datatype=DataType.BOOLEAN, timestamp=42),)

    def test_seq_wraps_after_255(self):
        assert (next_seq(254), next_seq(255)) == (255, 0)


class TestTopics:
    def test_device_topic_round_trips(self):
        topic = device_topic("plant-a", MessageType.DDATA, "edge-1", "lathe-7")
        assert topic == "spBv1.0/plant-a/DDATA/edge-1/lathe-7"
        assert parse_topic(topic) == SparkplugTopic("plant-a", MessageType.DDATA, "edge-1", "lathe-7")
        assert parse_topic(topic).edge_node_key == "plant-a/edge-1"

    def test_node_topic_has_no_device(self):
        assert parse_topic("spBv1.0/g/NBIRTH/e").device_id is None

    @pytest.mark.parametrize("topic", [
        "spBv1.0/g/NDATA/e/d",  # node message with a device
        "spBv1.0/g/DDATA/e",  # device message without one
        "spBv1.0/g/XDATA/e",
        "spAv1.0/g/NDATA/e",
        "spBv1.0//NDATA/e",
        "spBv1.0/g/NDATA/e/d/extra",
    ])
    def test_malformed_topics_are_refused(self, topic):
        with pytest.raises(TopicError):
            parse_topic(topic)

    def test_state_topic(self):
        assert state_topic("tradeloom") == "spBv1.0/STATE/tradeloom"
        with pytest.raises(TopicError):
            state_topic("a/b")
