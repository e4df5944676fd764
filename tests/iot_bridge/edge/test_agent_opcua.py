"""The edge agent's OPC UA subscriber against a real asyncua server holding two machines."""

import pytest

from iot_bridge.device_types import load_device_types
from iot_bridge.edge.agent import EdgeAgent
from iot_bridge.edge.config import EdgeConfig
from iot_bridge.edge.opcua import device_node_id
from iot_bridge.simulator.opcua_machines import OpcUaMachineServer
from iot_bridge.sparkplug import DataType, MessageType, device_topic
from iot_bridge.sparkplug.commands import RESULT, command_metric
from tests.iot_bridge.edge.peers import TEST_BROKER, SparkplugRecorder, unique_group
from tests.iot_bridge.edge.test_agent_modbus import dcmd, replied, running
from tradeloom.net import free_port

CMM = {"state": "run", "good_count": 12, "out_of_tolerance_count": 1, "last_deviation": 0.012, "room_temp": 20.5}


@pytest.fixture
async def machines():
    types = load_device_types()
    server = OpcUaMachineServer(free_port(), {"M1.": types["coordinate_measuring_machine"],
                                              "M2.": types["coordinate_measuring_machine"]})
    await server.start()
    await server.set_values("M1.", CMM)
    await server.set_values("M2.", {**CMM, "good_count": 99})
    yield server
    await server.stop()


def test_node_ids_of_a_machine_carry_its_prefix():
    assert device_node_id("ns=2;s=cmm.good_count", "M7.") == "ns=2;s=M7.cmm.good_count"
    assert device_node_id("ns=2;i=1001", "") == "ns=2;i=1001"
    with pytest.raises(ValueError, match="string node ids"):
        device_node_id("ns=2;i=1001", "M7.")


async def test_subscription_births_changes_commands_and_offline(machines, tmp_path):
    # given an agent subscribed to both machines of the server
    group = unique_group()
    recorder = SparkplugRecorder(group)
    config = EdgeConfig.model_validate({
        "group_id": group, "edge_node_id": "qa", "spool_path": tmp_path / "spool.sqlite",
        "opcua": [{"endpoint": machines.endpoint, "publishing_interval_ms": 50, "reconnect_s": 0.2, "devices": [
            {"device_id": "cmm-1", "type": "coordinate_measuring_machine", "node_prefix": "M1.",
             "deadbands": {"room_temp": 0.2}},
            {"device_id": "cmm-2", "type": "coordinate_measuring_machine", "node_prefix": "M2."},
        ]}],
    })
    async with running(EdgeAgent(config, TEST_BROKER)):
        # then both are born with the values the server holds
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DBIRTH)) == 2)
        birth = recorder.of(MessageType.DBIRTH, "cmm-1")[0].values()
        assert {k: birth[k] for k in CMM} == CMM
        assert recorder.of(MessageType.DBIRTH, "cmm-2")[0].values()["good_count"] == 99

        # when a monitored value changes (and another moves inside its deadband)
        await machines.set_values("M1.", {"room_temp": 20.6})
        await machines.set_values("M1.", {"last_deviation": 0.061, "out_of_tolerance_count": 2})
        await recorder.wait_for(lambda ms: any(
            m.values().get("out_of_tolerance_count") == 2 for m in recorder.of(MessageType.DDATA, "cmm-1")))
        # then the change arrives as DDATA, the deadbanded one does not
        reported = {k: v for m in recorder.of(MessageType.DDATA, "cmm-1") for k, v in m.values().items()}
        assert reported == {"last_deviation": 0.061, "out_of_tolerance_count": 2}

        # when the host starts an inspection (an OPC UA write)
        recorder.publish(device_topic(group, MessageType.DCMD, "qa", "cmm-2"),
                         dcmd("start_inspection", "k9", plan=("P-7", DataType.STRING)))
        answer = await recorder.wait_for(lambda ms: replied(ms, "start_inspection", "k9"))
        # then the machine's command node holds the plan and the result is ok
        assert await machines.command_value("M2.", "start_inspection") == "P-7"
        assert answer[-1].values()[command_metric("start_inspection", RESULT)] == "ok"

        # when the server goes away
        await machines.stop()
        await recorder.wait_for(lambda ms: len(recorder.of(MessageType.DDEATH)) == 2)
    recorder.close()
