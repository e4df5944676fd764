"""The edge agent against real peers: a pymodbus server (two PLCs) and the test broker, seen as a host would."""

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.agent import EdgeAgent
from iot_bridge.edge.config import EdgeConfig
from iot_bridge.simulator.modbus_plc import ModbusPlcServer
from iot_bridge.sparkplug import (
    NODE_REBIRTH,
    DataType,
    MessageType,
    Metric,
    Payload,
    device_topic,
    encode_payload,
    node_topic,
    rebirth_request,
)
from iot_bridge.sparkplug.commands import CORRELATION, RESULT, command_metric
from tests.iot_bridge.edge.peers import TEST_BROKER, Received, SparkplugRecorder, running, unique_group
from tradeloom.net import free_port

PRESS = {"state": "run", "good_count": 120, "scrap_count": 2, "strokes_per_minute": 40.0, "tonnage": 95.5,
         "die_height": 250.25, "lube_pressure": 3.5}
LATHE = {"state": "idle", "good_count": 7, "scrap_count": 0, "spindle_speed": 1500.0, "spindle_load": 42.5,
         "spindle_temp": -3.5, "feed_rate": 300.0}


@pytest.fixture
async def plc() -> AsyncIterator[ModbusPlcServer]:
    types = load_device_types()
    server = ModbusPlcServer(free_port(), {1: types["stamping_press"], 2: types["cnc_lathe"]})
    await server.start()
    await server.set_values(1, PRESS)
    await server.set_values(2, LATHE)
    yield server
    await server.stop()


def dcmd(command: str, correlation: str, **params: tuple[object, DataType]) -> bytes:
    """A host's DCMD payload: the command's parameters and its correlation id, by name."""
    metrics = [Metric(name=command_metric(command, name), value=value, datatype=datatype)  # type: ignore[arg-type]
               for name, (value, datatype) in params.items()]
    metrics.append(Metric(name=command_metric(command, CORRELATION), value=correlation, datatype=DataType.STRING))
    return encode_payload(Payload(timestamp=1, seq=None, metrics=tuple(metrics)))


def replied(messages: list[Received], command: str, correlation: str) -> bool:
    """The agent's DDATA answering the command (the recorder also hears the DCMD itself)."""
    return any(m.topic.message_type is MessageType.DDATA
               and m.values().get(command_metric(command, CORRELATION)) == correlation for m in messages)


def agent_for(plc: ModbusPlcServer, tmp_path: Path, group: str) -> EdgeAgent:
    device = {"host": "127.0.0.1", "port": plc.port, "poll_interval_s": 0.05, "offline_after": 2}
    config = EdgeConfig.model_validate({
        "group_id": group, "edge_node_id": "line-1", "spool_path": tmp_path / "spool.sqlite",
        "modbus": [{"device_id": "press-01", "type": "stamping_press", "unit": 1, "deadbands": {"tonnage": 1.0},
                    **device},
                   {"device_id": "lathe-01", "type": "cnc_lathe", "unit": 2, **device}],
    })
    return EdgeAgent(config, TEST_BROKER)


async def test_births_data_deadband_commands_rebirth_and_offline(plc, tmp_path):
    # given an agent polling two PLCs and a host-like recorder on the agent's group
    group = unique_group()
    recorder = SparkplugRecorder(group)
    async with running(agent_for(plc, tmp_path, group)):
        # then the node and both devices are born with the values in their registers (scale applied)
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DBIRTH)) == 2)
        (nbirth,) = recorder.of(MessageType.NBIRTH)
        assert nbirth.payload.seq == 0
        assert nbirth.values()["bdSeq"] == 0
        press_birth = recorder.of(MessageType.DBIRTH, "press-01")[0].values()
        assert {k: press_birth[k] for k in PRESS} == PRESS
        assert recorder.of(MessageType.DBIRTH, "lathe-01")[0].values()["Spindle/Temperature"] == -3.5

        # when a value moves less than its deadband, then more, and another without a deadband changes
        await plc.set_values(1, {"tonnage": 96.0})
        await plc.set_values(2, {"good_count": 8})
        await recorder.wait_for(lambda ms: recorder.of(MessageType.DDATA, "lathe-01"))
        await plc.set_values(1, {"tonnage": 101.0})
        await recorder.wait_for(lambda ms: recorder.of(MessageType.DDATA, "press-01"))
        # then only the changes beyond the deadband are reported, by alias, resolved with the birth
        assert [m.values() for m in recorder.of(MessageType.DDATA, "press-01")] == [{"tonnage": 101.0}]
        assert recorder.of(MessageType.DDATA, "lathe-01")[0].values() == {"good_count": 8}

        # when the host commands a new stroke rate (a Modbus register write)
        recorder.publish(device_topic(group, MessageType.DCMD, "line-1", "press-01"),
                         dcmd("set_stroke_rate", "c-1", spm=(55, DataType.INT64)))
        result = await recorder.wait_for(lambda ms: replied(ms, "set_stroke_rate", "c-1"))
        # then the register holds it and the result goes back with the correlation id
        assert list(await plc.holding(1, 100)) == [55]
        assert result[-1].values() == {command_metric("set_stroke_rate", CORRELATION): "c-1",
                         command_metric("set_stroke_rate", RESULT): "ok"}

        # when a command breaks its parameter limits
        recorder.publish(device_topic(group, MessageType.DCMD, "line-1", "press-01"),
                         dcmd("set_stroke_rate", "c-2", spm=(500, DataType.INT64)))
        refused = await recorder.wait_for(lambda ms: replied(ms, "set_stroke_rate", "c-2"))
        # then nothing is written and the refusal says why
        assert list(await plc.holding(1, 100)) == [55]
        assert refused[-1].values()[command_metric("set_stroke_rate", RESULT)].startswith("failed: 'spm' must be")

        # when the host asks for a rebirth
        recorder.publish(node_topic(group, MessageType.NCMD, "line-1"), rebirth_request(1))
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DBIRTH)) == 4)
        # then births come again, seq restarting at 0, same bdSeq
        rebirth = recorder.of(MessageType.NBIRTH)[-1]
        assert (rebirth.payload.seq, rebirth.values()["bdSeq"], rebirth.values()[NODE_REBIRTH]) == (0, 0, False)

        # when the PLCs stop answering
        await plc.stop()
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DDEATH)) == 2)

    # then every message after a birth carried the next seq (mod 256), with no gap
    host_side = (MessageType.NDEATH, MessageType.NCMD, MessageType.DCMD)
    data_messages = [m for m in recorder.messages if m.topic.message_type not in host_side]
    seqs = [m.payload.seq for m in data_messages]
    for before, after in itertools.pairwise(data_messages):
        if after.topic.message_type is not MessageType.NBIRTH:
            assert after.payload.seq == (before.payload.seq + 1) % 256, seqs
    # and the clean stop published the node's death with its bdSeq
    (ndeath,) = (await recorder.wait_for(lambda ms: recorder.of(MessageType.NDEATH)))[-1:]
    assert ndeath.values() == {"bdSeq": 0}
    recorder.close()
