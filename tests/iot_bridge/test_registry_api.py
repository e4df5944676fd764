"""Device registry over the API: registration, credentials, filters, lifecycle, maintenance, tenancy."""

import pytest
from httpx import AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from iot_bridge.credentials import verify_mqtt_password
from iot_bridge.models import Device
from tests.factories import Member, make_member

API = "/api/v1/iot"


async def register_edge(client: AsyncClient, member: Member, edge: str = "edge-1") -> dict:
    response = await client.post(f"{API}/edge-nodes", headers=member.headers,
                                 json={"group_id": f"g-{member.org.id.hex[:8]}", "edge_node_id": edge, "name": edge})
    assert response.status_code == 201, response.text
    return response.json()


async def register_device(client: AsyncClient, member: Member, **fields: object) -> dict:
    body = {"code": "lathe-1", "name": "Lathe 1", "type_code": "cnc_lathe", "protocol": "mqtt_json"} | fields
    response = await client.post(f"{API}/devices", headers=member.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def member(session: AsyncSession) -> Member:
    return await make_member(session)


class TestRegister:
    async def test_plain_mqtt_device_gets_a_password_stored_only_as_a_mosquitto_hash(
        self, client: AsyncClient, session: AsyncSession, member: Member
    ):
        # when
        device = await register_device(client, member)
        # then
        assert device["mqtt_username"] == f"dev.{member.org.id}.lathe-1"
        await session.execute(text("RESET ROLE"))
        stored = await session.scalar(select(Device.mqtt_password_hash).where(Device.id == device["id"]))
        assert stored is not None and stored.startswith("$7$20000$")
        assert verify_mqtt_password(device["mqtt_password"], stored)
        assert not verify_mqtt_password("guess", stored)

    async def test_sparkplug_device_hangs_off_an_edge_node_and_has_no_password_of_its_own(
        self, client: AsyncClient, member: Member
    ):
        edge = await register_edge(client, member)
        device = await register_device(client, member, protocol="sparkplug", edge_node_id=edge["id"])
        assert (device["edge_node_id"], device["mqtt_password"], edge["mqtt_username"]) == (
            edge["id"], None, f"edge.{edge['group_id']}.edge-1")

    @pytest.mark.parametrize(("fields", "code"), [
        ({"type_code": "toaster"}, "device_type_unknown"),
        ({"protocol": "sparkplug"}, "device_edge_node_mismatch"),
    ])
    async def test_bad_registrations_are_refused(self, client: AsyncClient, member: Member, fields, code):
        body = {"code": "x", "name": "X", "type_code": "cnc_lathe", "protocol": "mqtt_json"} | fields
        response = await client.post(f"{API}/devices", headers=member.headers, json=body)
        assert (response.status_code, response.json()["code"]) == (422, code)

    async def test_duplicate_code_is_a_conflict(self, client: AsyncClient, member: Member):
        await register_device(client, member)
        response = await client.post(f"{API}/devices", headers=member.headers, json={
            "code": "lathe-1", "name": "Again", "type_code": "cnc_lathe", "protocol": "mqtt_json"})
        assert (response.status_code, response.json()["code"]) == (409, "device_code_taken")

    async def test_a_topic_separator_in_the_code_is_refused(self, client: AsyncClient, member: Member):
        response = await client.post(f"{API}/devices", headers=member.headers, json={
            "code": "a/#", "name": "X", "type_code": "cnc_lathe", "protocol": "mqtt_json"})
        assert response.status_code == 422

    async def test_another_orgs_edge_node_cannot_be_used(self, client: AsyncClient, session: AsyncSession,
                                                         member: Member):
        other = await make_member(session)
        edge = await register_edge(client, other)
        response = await client.post(f"{API}/devices", headers=member.headers, json={
            "code": "x", "name": "X", "type_code": "plc", "protocol": "modbus", "edge_node_id": edge["id"]})
        assert (response.status_code, response.json()["code"]) == (404, "edge_node_not_found")


class TestQueries:
    async def test_filters_and_tenancy(self, client: AsyncClient, session: AsyncSession, member: Member):
        other = await make_member(session)
        await register_device(client, member, code="lathe-1", work_centre="WC-1")
        await register_device(client, member, code="meter-1", type_code="energy_meter")
        hidden = await register_device(client, other, code="lathe-9")
        by_type = await client.get(f"{API}/devices", params={"type_code": "cnc_lathe"}, headers=member.headers)
        assert [d["code"] for d in by_type.json()["items"]] == ["lathe-1"]
        by_text = await client.get(f"{API}/devices", params={"q": "METER"}, headers=member.headers)
        assert [d["code"] for d in by_text.json()["items"]] == ["meter-1"]
        assert (await client.get(f"{API}/devices/{hidden['id']}", headers=member.headers)).status_code == 404

    async def test_device_types_are_listed(self, client: AsyncClient, member: Member):
        types = (await client.get(f"{API}/device-types", headers=member.headers)).json()
        assert len(types) >= 30 and types[0]["code"] == "cnc_lathe"


class TestLifecycleAndMaintenance:
    async def test_lifecycle_steps_and_versions(self, client: AsyncClient, member: Member):
        device = await register_device(client, member)
        url = f"{API}/devices/{device['id']}/lifecycle"
        activated = await client.post(url, json={"lifecycle": "active"}, headers=member.headers | {"If-Match": '"1"'})
        assert (activated.status_code, activated.json()["lifecycle"]) == (200, "active")
        assert activated.headers["ETag"] == '"2"'
        stale = await client.post(url, json={"lifecycle": "retired"}, headers=member.headers | {"If-Match": '"1"'})
        assert stale.status_code == 412
        back = await client.post(url, json={"lifecycle": "provisioned"}, headers=member.headers | {"If-Match": '"2"'})
        assert (back.status_code, back.json()["code"]) == (409, "lifecycle_step_invalid")

    async def test_recording_scheduled_work_moves_the_schedule_on(self, client: AsyncClient, member: Member):
        device = await register_device(client, member)
        base = f"{API}/devices/{device['id']}"
        schedule = (await client.post(f"{base}/maintenance-schedules", headers=member.headers, json={
            "task": "Change spindle oil", "interval_days": 90, "next_due_on": "2026-12-01"})).json()
        record = await client.post(f"{base}/maintenance-records", headers=member.headers, json={
            "kind": "preventive", "performed_on": "2026-11-25", "notes": "ok", "schedule_id": schedule["id"]})
        assert record.status_code == 201
        assert record.json()["performed_by"] == str(member.user.id)


class TestCommands:
    async def test_a_checked_command_is_queued_and_audited(self, client: AsyncClient, member: Member):
        device = await register_device(client, member)
        url = f"{API}/devices/{device['id']}/commands"
        queued = await client.post(url, headers=member.headers, json={"name": "set_feed_override",
                                                                      "params": {"percent": 90}})
        assert (queued.status_code, queued.json()["status"]) == (202, "pending")
        listed = (await client.get(url, headers=member.headers)).json()
        assert [c["correlation_id"] for c in listed] == [queued.json()["correlation_id"]]

    @pytest.mark.parametrize(("body", "code"), [
        ({"name": "self_destruct"}, "command_unknown"),
        ({"name": "set_feed_override", "params": {"percent": 500}}, "command_params_invalid"),
        ({"name": "set_feed_override", "params": {}}, "command_params_invalid"),
    ])
    async def test_bad_commands_are_refused(self, client: AsyncClient, member: Member, body, code):
        device = await register_device(client, member)
        response = await client.post(f"{API}/devices/{device['id']}/commands", headers=member.headers, json=body)
        assert (response.status_code, response.json()["code"]) == (422, code)
