"""Pure host-side logic: Sparkplug session tracking (bdSeq, seq gaps, aliases) and alarm rule state machines."""

import datetime as dt
import uuid

from iot_bridge.alarm_rules import AlarmEvaluator
from iot_bridge.bridge.sessions import REBIRTH_WINDOW_S, SparkplugTracker
from iot_bridge.device_types import DeviceTypeSpec, parse_device_types
from iot_bridge.sparkplug import (
    BD_SEQ,
    DataType,
    MessageType,
    Metric,
    Payload,
    SparkplugTopic,
    encode_payload,
)

NODE = ("g", "edge")


def topic(kind: MessageType, device: str | None = None) -> SparkplugTopic:
    return SparkplugTopic(NODE[0], kind, NODE[1], device)


def node_birth(bd_seq: int = 0) -> bytes:
    return encode_payload(Payload(timestamp=1, seq=0, metrics=(Metric(BD_SEQ, bd_seq, DataType.UINT64),)))


def device_birth(seq: int) -> bytes:
    return encode_payload(Payload(timestamp=1, seq=seq, metrics=(Metric("temp", 20.0, DataType.DOUBLE, alias=7),)))


def device_data(seq: int, value: float = 21.0, timestamp: int = 2) -> bytes:
    metrics = (Metric(None, value, DataType.DOUBLE, alias=7),)
    return encode_payload(Payload(timestamp=timestamp, seq=seq, metrics=metrics))


def born_with_device() -> SparkplugTracker:
    """A tracker that took the node's birth (seq 0) and device d1's (seq 1): it expects seq 2."""
    tracker = SparkplugTracker()
    tracker.track(topic(MessageType.NBIRTH), node_birth())
    tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
    return tracker


class TestSparkplugTracker:
    def test_birth_then_data_in_sequence(self):
        tracker = SparkplugTracker()
        assert tracker.track(topic(MessageType.NBIRTH), node_birth()).node_online is True
        assert tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1)).device_online is True
        outcome = tracker.track(topic(MessageType.DDATA, "d1"), device_data(2))
        assert outcome.rebirth is False
        assert outcome.payload is not None and outcome.payload.metrics[0].name == "temp"

    def test_a_seq_gap_keeps_the_data_and_asks_for_one_rebirth(self):
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth())
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        gap = tracker.track(topic(MessageType.DDATA, "d1"), device_data(5))
        again = tracker.track(topic(MessageType.DDATA, "d1"), device_data(9))
        assert (gap.rebirth, gap.payload is not None, again.rebirth) == (True, True, False)
        tracker.track(topic(MessageType.NBIRTH), node_birth(1))
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        assert tracker.track(topic(MessageType.DDATA, "d1"), device_data(7)).rebirth is True

    def test_data_before_any_birth_is_dropped_with_a_rebirth_request(self):
        outcome = SparkplugTracker().track(topic(MessageType.DDATA, "d1"), device_data(1))
        assert (outcome.payload, outcome.rebirth, outcome.rejected) == (None, True, "no_birth")

    def test_without_a_birth_one_rebirth_request_per_window_until_the_node_is_born(self):
        now = [100.0]
        tracker = SparkplugTracker(clock=lambda: now[0])
        asks = [tracker.track(topic(MessageType.DDATA, "d1"), device_data(seq)).rebirth for seq in (1, 2, 3)]
        now[0] += REBIRTH_WINDOW_S
        asks.append(tracker.track(topic(MessageType.DDATA, "d1"), device_data(4)).rebirth)
        assert asks == [True, False, False, True]

    def test_a_stale_death_does_not_take_the_new_session_down(self):
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=4))
        stale = tracker.track(topic(MessageType.NDEATH), encode_payload(
            Payload(timestamp=1, seq=None, metrics=(Metric(BD_SEQ, 3, DataType.UINT64),))))
        assert stale.rejected == "stale_death"
        death = tracker.track(topic(MessageType.NDEATH), encode_payload(
            Payload(timestamp=1, seq=None, metrics=(Metric(BD_SEQ, 4, DataType.UINT64),))))
        assert death.node_online is False

    def test_data_overtaken_by_its_node_death_is_kept_as_late_data_only_in_sequence(self):
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth())
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        tracker.track(topic(MessageType.NDEATH), encode_payload(
            Payload(timestamp=3, seq=None, metrics=(Metric(BD_SEQ, 0, DataType.UINT64),))))
        late = tracker.track(topic(MessageType.DDATA, "d1"), device_data(2))
        assert (late.late, late.payload is not None, late.rejected) == (True, True, None)
        assert tracker.expected_seq("g/edge") == 3  # the reorder buffer lets the next one through at once
        stray = tracker.track(topic(MessageType.DDATA, "d1"), device_data(9))
        assert (stray.payload, stray.rejected) == (None, "no_birth")

    def test_a_message_a_gap_went_past_is_kept_late_once_without_moving_the_session_back(self):
        # given a born node whose seq 3 and 4 were overtaken: 5 came, and the session went past them as a gap
        tracker = born_with_device()
        assert tracker.track(topic(MessageType.DDATA, "d1"), device_data(5)).rebirth is True
        # when 4 comes after all, and then again
        late = tracker.track(topic(MessageType.DDATA, "d1"), device_data(4, value=30.0))
        # then it is kept as late data once, the session still expects 6, and 3 may still come
        assert (late.late, late.rejected, late.rebirth) == (True, None, False)
        assert late.payload is not None and late.payload.metrics[0].value == 30.0
        assert tracker.expected_seq("g/edge") == 6
        assert not tracker.was_skipped("g/edge", 4) and tracker.was_skipped("g/edge", 3)
        assert tracker.track(topic(MessageType.DDATA, "d1"), device_data(6)).late is False

    def test_skipped_seqs_are_forgotten_half_the_seq_space_later_and_at_a_birth(self):
        tracker = born_with_device()
        tracker.track(topic(MessageType.DDATA, "d1"), device_data(5))  # 2, 3 and 4 skipped
        for seq in range(6, 131):
            tracker.track(topic(MessageType.DDATA, "d1"), device_data(seq % 256))
        assert [tracker.was_skipped("g/edge", seq) for seq in (2, 3, 4)] == [False, True, True]  # 131 is next
        tracker.track(topic(MessageType.NBIRTH), node_birth())
        assert not tracker.was_skipped("g/edge", 3)

    def test_a_message_a_gap_went_past_is_kept_late_after_the_node_death_too(self):
        tracker = born_with_device()
        tracker.track(topic(MessageType.DDATA, "d1"), device_data(4))  # 2 and 3 skipped
        tracker.track(topic(MessageType.NDEATH), encode_payload(
            Payload(timestamp=3, seq=None, metrics=(Metric(BD_SEQ, 0, DataType.UINT64),))))
        late = tracker.track(topic(MessageType.DDATA, "d1"), device_data(2))
        assert (late.late, late.rejected) == (True, None)
        assert tracker.expected_seq("g/edge") == 5

    def test_a_rebirth_keeps_device_births_that_overtook_its_node_birth(self):
        # given a born node and device, then a Rebirth whose DBIRTH arrives before its NBIRTH (same bdSeq)
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=2))
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=2))
        # when the device reports
        outcome = tracker.track(topic(MessageType.DDATA, "d1"), device_data(2))
        # then its data is decoded with the aliases of the DBIRTH, not refused as unknown_device
        assert outcome.rejected is None
        assert outcome.payload is not None and outcome.payload.metrics[0].name == "temp"

    def test_a_new_session_starts_without_the_device_births_of_the_old_one(self):
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=2))
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=3))
        assert tracker.track(topic(MessageType.DDATA, "d1"), device_data(1)).rejected == "unknown_device"

    def test_data_of_the_session_before_that_comes_after_the_new_birth_is_decoded_with_its_births(self):
        # given a device born in the node's session 2, then the node's new session 3 born at t=100 (its clock)
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth(bd_seq=2))
        tracker.track(topic(MessageType.DBIRTH, "d1"), device_birth(1))
        tracker.track(topic(MessageType.NBIRTH), encode_payload(
            Payload(timestamp=100, seq=0, metrics=(Metric(BD_SEQ, 3, DataType.UINT64),))))
        # when a report the device sent at t=99, in session 2, comes now
        late = tracker.track(topic(MessageType.DDATA, "d1"), device_data(7, timestamp=99))
        # then it is kept as late data, decoded with session 2's aliases; one sent in session 3 is not
        assert (late.late, late.rejected) == (True, None)
        assert late.payload is not None and late.payload.metrics[0].name == "temp"
        assert tracker.track(topic(MessageType.DDATA, "d1"), device_data(1, timestamp=101)).rejected == "unknown_device"
        replayed = encode_payload(Payload(timestamp=98, seq=2, metrics=(
            Metric(None, 5.0, DataType.DOUBLE, alias=7, timestamp=98, is_historical=True),)))
        assert tracker.track(topic(MessageType.DDATA, "d1"), replayed).rejected == "unknown_device"  # session 3's
        assert tracker.expected_seq("g/edge") == 1

    def test_garbage_is_rejected_not_raised(self):
        tracker = SparkplugTracker()
        tracker.track(topic(MessageType.NBIRTH), node_birth())
        assert tracker.track(topic(MessageType.NDATA), b"\xff\xff\xff").rejected == "bad_payload"
        assert tracker.track(topic(MessageType.NBIRTH), b"\x08").rejected == "bad_payload"


SPEC: DeviceTypeSpec = parse_device_types("""
device_types:
  - code: probe
    name: {en: Probe, zh: 探头}
    category: sensor
    telemetry: [{key: temp, type: double}]
    alarms:
      - {code: hot, kind: threshold, key: temp, above: 80, hysteresis: 5, severity: critical}
      - {code: band, kind: range, key: temp, min: 0, max: 100, severity: major}
      - {code: jump, kind: rate, key: temp, max_rate: 10, severity: minor}
      - {code: warm_long, kind: duration, key: temp, above: 60, for_seconds: 30, severity: warning}
      - {code: offline, kind: offline, after_seconds: 60, severity: major}
""")["probe"]
T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def feed(evaluator: AlarmEvaluator, device: uuid.UUID, readings: list[tuple[int, float]]) -> list[tuple[str, bool]]:
    """One message per reading, as the bridge feeds them: the device was seen, then its value observed."""
    transitions = []
    for second, value in readings:
        at = T0 + dt.timedelta(seconds=second)
        transitions += evaluator.seen(device, SPEC, at) + evaluator.observe(device, SPEC, "temp", value, at)
    return [(t.rule.code, t.raised) for t in transitions]


class TestAlarmEvaluator:
    def test_threshold_with_hysteresis_raises_once_and_clears_below_the_band(self):
        evaluator, device = AlarmEvaluator(), uuid.uuid4()
        assert feed(evaluator, device, [(0, 50), (100, 81), (200, 82), (300, 78), (400, 74)]) == [
            ("hot", True), ("warm_long", True), ("hot", False)]

    def test_range_and_rate(self):
        evaluator, device = AlarmEvaluator(), uuid.uuid4()
        assert feed(evaluator, device, [(0, 10), (1, 40), (2, 41), (100, -5)]) == [
            ("jump", True), ("jump", False), ("band", True)]

    def test_duration_needs_the_condition_held(self):
        evaluator, device = AlarmEvaluator(), uuid.uuid4()
        assert feed(evaluator, device, [(0, 65), (20, 66), (25, 50), (30, 65), (59, 65), (61, 65)]) == [
            ("warm_long", True)]

    def test_offline_raises_after_silence_and_clears_on_the_next_message(self):
        evaluator, device = AlarmEvaluator(), uuid.uuid4()
        assert evaluator.check_offline(device, SPEC, T0, T0 + dt.timedelta(seconds=30)) == []
        (raised,) = evaluator.check_offline(device, SPEC, T0, T0 + dt.timedelta(seconds=61))
        assert (raised.rule.code, raised.raised) == ("offline", True)
        assert raised.message == "offline: device silent for more than 60 s (value 61)"
        assert feed(evaluator, device, [(70, 20)]) == [("offline", False)]
