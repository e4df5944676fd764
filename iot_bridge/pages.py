"""IoT pages: fleet dashboard, device list and detail (live readings over SSE), alarm console.

They call the same services as the API; live state comes from Redis (``iot_bridge.live``) and is read only
for devices the signed-in organization owns (the device row is loaded under RLS first).
"""

import asyncio
import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from iot_bridge import alarms, commands, live, production, reconcile, registry
from iot_bridge.device_types import CommandSpec, ValueType, load_device_types
from iot_bridge.models import Lifecycle
from iot_bridge.schemas import MaintenanceRecordCreate
from iot_bridge.telemetry import recent_readings
from tradeloom.errors import Forbidden, Invalid, TradeloomError
from tradeloom.identity.roles import Permission
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_fields, run_form_action
from tradeloom.web.i18n import request_locale
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
FLEET_PAGE_SIZE = 500
CHART_HOURS = 6
SSE_KEEPALIVE_SECONDS = 15

ALARM_STATUS_LABELS = {"active": N_("Unacknowledged"), "acknowledged": N_("Acknowledged"), "cleared": N_("Cleared")}
SEVERITY_LABELS = {"critical": N_("Critical"), "major": N_("Major"), "minor": N_("Minor"), "warning": N_("Warning")}
COMMAND_STATUS_LABELS = {"pending": N_("Waiting to be sent"), "sent": N_("Sent"), "acknowledged": N_("Acknowledged"),
                         "failed": N_("Failed"), "timed_out": N_("Timed out")}
STATE_LABELS = {"run": N_("Running"), "idle": N_("Idle"), "down": N_("Down"), "No data yet": N_("No data yet")}
MAINTENANCE_KIND_LABELS = {"preventive": N_("Preventive"), "corrective": N_("Corrective"),
                           "inspection": N_("Inspection"), "calibration": N_("Calibration")}
SYNC_LABELS = {"in_sync": N_("In sync"), "pending": N_("Being applied"), "drift": N_("Drift")}
LIFECYCLE_LABELS = {"provisioned": N_("Provisioned"), "active": N_("In service"), "maintenance": N_("In maintenance"),
                    "retired": N_("Retired")}


def _type_names(request: Request) -> dict[str, str]:
    chinese = request_locale(request, request.app.state.settings.default_locale).startswith("zh")
    return {code: spec.name.zh if chinese else spec.name.en for code, spec in load_device_types().items()}


@router.get("/iot")
async def fleet_dashboard(request: Request, principal: Member, tx: Tx) -> Response:
    """Online/offline devices by type, open alarms and the message rate."""
    session = await tx.session()
    devices, _ = await registry.list_devices(session, limit=FLEET_PAGE_SIZE)
    online = await live.online_flags(request.app.state.redis, org_id=principal.org_id)
    names = _type_names(request)
    by_type: dict[str, Counter[str]] = {}
    for device in devices:
        by_type.setdefault(names.get(device.type_code, device.type_code), Counter())[
            "online" if online.get(device.id) else "offline"] += 1
    open_alarms = await alarms.list_alarms(session, open_only=True)
    rate = await live.message_rate(request.app.state.redis, org_id=principal.org_id, now=dt.datetime.now(dt.UTC))
    chart = {"labels": list(by_type), "online": [c["online"] for c in by_type.values()],
             "offline": [c["offline"] for c in by_type.values()]}
    return render(request, "iot/dashboard.html", {
        "device_count": len(devices), "online_count": sum(1 for d in devices if online.get(d.id)),
        "alarm_count": len(open_alarms), "rate": rate, "chart": chart,
        "severity_counts": Counter(a.severity for a in open_alarms), "severity_labels": SEVERITY_LABELS,
    }, principal=principal)


@router.get("/iot/devices")
async def device_list(request: Request, principal: Member, tx: Tx, type_code: str = "", lifecycle: str = "",
                      q: str = "", cursor: str | None = None) -> Response:
    """Devices with filters by type, lifecycle and text."""
    session = await tx.session()
    chosen_lifecycle = Lifecycle(lifecycle) if lifecycle in Lifecycle._value2member_map_ else None
    devices, next_cursor = await registry.list_devices(
        session, limit=50, cursor=cursor, type_code=type_code or None, lifecycle=chosen_lifecycle,
        search=q[:100] or None,
    )
    online = await live.online_flags(request.app.state.redis, org_id=principal.org_id)
    return render(request, "iot/devices.html", {
        "devices": devices, "online": online, "type_names": _type_names(request), "next_cursor": next_cursor,
        "filters": {"type_code": type_code, "lifecycle": lifecycle, "q": q}, "lifecycle_labels": LIFECYCLE_LABELS,
    }, principal=principal)


@router.get("/iot/devices/{device_id}")
async def device_detail(request: Request, principal: Member, tx: Tx, device_id: uuid.UUID) -> Response:
    """A device: latest readings (live), a chart of recent values, commands, alarms and maintenance."""
    return await _device_page(request, principal, tx, device_id, errors=[])


async def _device_page(request: Request, principal: Member, tx: Tx, device_id: uuid.UUID, errors: list[str],
                       status_code: int = 200) -> Response:
    session = await tx.session()
    device = await registry.get_device(session, device_id=device_id)
    spec = load_device_types()[device.type_code]
    latest = await live.latest_values(request.app.state.redis, org_id=principal.org_id, device_id=device.id)
    numeric = [t for t in spec.telemetry if t.type.value in ("double", "int")]
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=CHART_HOURS)
    series = {t.key: [[ts.isoformat(), value] for ts, value in
                      await recent_readings(session, device_id=device.id, key=t.key, since=since)]
              for t in numeric[:4]}
    schedules, records = await registry.maintenance_of(session, device_id=device.id)
    return render(request, "iot/device.html", {
        "device": device, "spec": spec, "type_name": _type_names(request)[device.type_code], "latest": latest,
        "series": series, "alarms": await alarms.list_alarms(session, open_only=False, device_id=device.id, limit=20),
        "schedules": schedules, "records": records, "lifecycle_labels": LIFECYCLE_LABELS,
        "sync": await reconcile.sync_states(session, device), "sync_labels": SYNC_LABELS,
        "desired_specs": [a for a in spec.attributes if a.access == "desired"],
        "alarm_status_labels": ALARM_STATUS_LABELS, "severity_labels": SEVERITY_LABELS, "errors": errors,
        "commands": await commands.commands_of(session, device_id=device.id, limit=10),
        "can_command": principal.can(Permission.DEVICES_MANAGE), "command_status_labels": COMMAND_STATUS_LABELS,
    }, principal=principal, status_code=status_code)


@router.post("/iot/devices/{device_id}/desired")
async def set_desired(request: Request, principal: Member, tx: Tx, device_id: uuid.UUID) -> Response:
    """The desired settings form: one attribute's value (empty removes it), with the device's version."""

    async def action(session: AsyncSession, form: FormData) -> None:
        if not principal.can(Permission.DEVICES_MANAGE):
            raise Forbidden("You cannot change device settings.", code="desired_refused")
        device = await registry.get_device(session, device_id=device_id)
        key, text = str(form.get("key", "")), str(form.get("value", "")).strip()
        spec = next((a for a in load_device_types()[device.type_code].attributes if a.key == key), None)
        value = None if not text or spec is None else _typed(spec.type, text)
        try:
            version = int(str(form.get("version", "")))
        except ValueError:
            raise Invalid("The form is missing the device's version.", code="version_missing") from None
        await reconcile.set_desired(session, actor=principal.actor, device_id=device_id, expected_version=version,
                                    values={key: value})

    async def show_again(_session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _device_page(request, principal, tx, device_id, errors, status_code=status)

    return await run_form_action(request, tx, action, done_url=f"/iot/devices/{device_id}", show_again=show_again)


@router.post("/iot/devices/{device_id}/commands/{name}")
async def send_command(request: Request, principal: Member, tx: Tx, device_id: uuid.UUID, name: str) -> Response:
    """The command panel: one form per command of the device's type."""
    form = await form_fields(request)
    try:
        if not principal.can(Permission.DEVICES_MANAGE):
            raise Forbidden("You cannot send commands to devices.", code="command_refused")
        session = await tx.session()
        device = await registry.get_device(session, device_id=device_id)
        spec = load_device_types()[device.type_code].command(name)
        params = _command_params(spec, form) if spec else {}
        await commands.request_command(session, actor=principal.actor, device_id=device_id, name=name,
                                       params=params, timeout_seconds=30)
    except TradeloomError as exc:
        await tx.abandon()
        return await _device_page(request, principal, tx, device_id, form_errors(exc), status_code=409)
    return RedirectResponse(f"/iot/devices/{device_id}", status_code=303)


def _command_params(spec: CommandSpec, form: dict[str, str]) -> dict[str, object]:
    """Form text → typed parameters (what cannot be read stays text, and the command check refuses it)."""
    params: dict[str, object] = {}
    for param in spec.params:
        text = form.get(param.name, "").strip()
        params[param.name] = _typed(param.type, text)
    return params


def _typed(value_type: ValueType, text: str) -> object:
    try:
        if value_type is ValueType.INT:
            return int(text)
        if value_type is ValueType.DOUBLE:
            return float(text)
    except ValueError:
        return text
    if value_type is ValueType.BOOL:
        return text in ("1", "true", "on")
    return text


@router.get("/iot/devices/{device_id}/stream")
async def device_stream(request: Request, principal: Member, tx: Tx, device_id: uuid.UUID) -> Response:
    """Server-sent events: each batch of new readings of the device as it is ingested."""
    await registry.get_device(await tx.session(), device_id=device_id)  # 404 unless it is ours (RLS)
    return StreamingResponse(_readings_events(request, device_id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _readings_events(request: Request, device_id: uuid.UUID) -> AsyncIterator[str]:
    pubsub = request.app.state.redis.pubsub()
    await pubsub.subscribe(live.live_channel(device_id))
    try:
        while not await request.is_disconnected():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=SSE_KEEPALIVE_SECONDS)
            if message is None:
                yield ": keep-alive\n\n"
            else:
                yield f"data: {json.dumps(json.loads(message['data']))}\n\n"
            await asyncio.sleep(0)
    finally:
        await pubsub.aclose()


@router.get("/iot/alarms")
async def alarm_console(request: Request, principal: Member, tx: Tx, history: bool = False) -> Response:
    """Open alarms (or the history) with acknowledge and clear."""
    return await _alarm_page(request, principal, tx, history, errors=[])


async def _alarm_page(request: Request, principal: Member, tx: Tx, history: bool, errors: list[str],
                      status_code: int = 200) -> Response:
    session = await tx.session()
    found = await alarms.list_alarms(session, open_only=not history)
    devices, _ = await registry.list_devices(session, limit=FLEET_PAGE_SIZE)
    return render(request, "iot/alarms.html", {
        "alarms": found, "device_codes": {d.id: d.code for d in devices}, "history": history, "errors": errors,
        "can_manage": principal.can(Permission.DEVICES_MANAGE), "status_labels": ALARM_STATUS_LABELS,
        "severity_labels": SEVERITY_LABELS,
    }, principal=principal, status_code=status_code)


@router.post("/iot/alarms/{alarm_id}/{action}")
async def alarm_action(request: Request, principal: Member, tx: Tx, alarm_id: uuid.UUID, action: str) -> Response:
    """Acknowledge or clear an alarm from the console (the form carries the version it showed)."""
    form = await form_fields(request)
    steps = {"acknowledge": alarms.acknowledge, "clear": alarms.clear}
    try:
        if action not in steps or not principal.can(Permission.DEVICES_MANAGE):
            raise Forbidden("You cannot do that to an alarm.", code="alarm_action_refused")
        version = int(form.get("version", "0")) if form.get("version", "").isdigit() else 0
        await steps[action](await tx.session(), actor=principal.actor, alarm_id=alarm_id, expected_version=version)
    except TradeloomError as exc:
        await tx.abandon()
        return await _alarm_page(request, principal, tx, False, form_errors(exc), status_code=409)
    return RedirectResponse("/iot/alarms", status_code=303)


@router.get("/iot/production")
async def production_page(request: Request, principal: Member, tx: Tx) -> Response:
    """The supplier's production orders with progress, state and ETA, and the form to start one."""
    return await _production_page(request, principal, await tx.session(), [], 200)


async def _production_page(request: Request, principal: Member, session: AsyncSession, errors: list[str],
                           status_code: int) -> Response:
    can_start = principal.can(Permission.DEVICES_MANAGE)
    return render(request, "iot/production.html", {
        "progress": await production.list_production(session, org_id=principal.org_id),
        "state_labels": STATE_LABELS, "errors": errors, "can_start": can_start, "type_names": _type_names(request),
        "lines": await production.startable_lines(session, org_id=principal.org_id) if can_start else [],
        "devices": await production.productive_devices(session) if can_start else [],
    }, principal=principal, status_code=status_code)


@router.post("/iot/production")
async def start_production(request: Request, principal: Member, tx: Tx) -> Response:
    """The start form: a confirmed order line, its work centre and the devices that make it."""

    async def action(session: AsyncSession, form: FormData) -> None:
        if not principal.can(Permission.DEVICES_MANAGE):
            raise Forbidden("You cannot start production.", code="production_refused")
        try:
            line_id = uuid.UUID(str(form.get("order_line_id", "")))
            device_ids = [uuid.UUID(str(value)) for value in form.getlist("device_ids")]
        except ValueError:
            raise Invalid("Choose an order line and at least one device.", code="production_form_invalid") from None
        work_centre = str(form.get("work_centre", "")).strip()
        if not work_centre or len(work_centre) > 64:
            raise Invalid("Name the work centre (at most 64 characters).", code="work_centre_invalid")
        await production.start_production(session, actor=principal.actor, order_line_id=line_id,
                                          work_centre=work_centre, device_ids=device_ids)

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _production_page(request, principal, session, errors, status)

    return await run_form_action(request, tx, action, done_url="/iot/production", show_again=show_again)


@router.get("/iot/production/orders/{order_id}/progress")
async def order_progress(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID) -> Response:
    """The fragment the order page loads (buyer or supplier, by RLS); empty when nothing is in production."""
    progress = await production.progress_for_order(await tx.session(), order_id=order_id)
    return render(request, "iot/progress_fragment.html", {
        "progress": progress, "order_id": order_id, "state_labels": STATE_LABELS}, principal=principal)


@router.get("/iot/maintenance")
async def maintenance_page(request: Request, principal: Member, tx: Tx) -> Response:
    """Maintenance schedules of the fleet (overdue marked) and the latest records."""
    return await _maintenance_page(request, principal, tx, errors=[])


async def _maintenance_page(request: Request, principal: Member, tx: Tx, errors: list[str],
                            status_code: int = 200) -> Response:
    schedules, records = await registry.maintenance_overview(await tx.session())
    return render(request, "iot/maintenance.html", {
        "schedules": schedules, "records": records, "today": dt.date.today(), "errors": errors,
        "can_manage": principal.can(Permission.DEVICES_MANAGE), "kind_labels": MAINTENANCE_KIND_LABELS,
    }, principal=principal, status_code=status_code)


@router.post("/iot/maintenance/{schedule_id}/done")
async def maintenance_done(request: Request, principal: Member, tx: Tx, schedule_id: uuid.UUID) -> Response:
    """Record a schedule's task as done today (preventive), which moves its next due date on."""
    await form_fields(request)
    try:
        if not principal.can(Permission.DEVICES_MANAGE):
            raise Forbidden("You cannot record maintenance.", code="maintenance_refused")
        session = await tx.session()
        schedule = await registry.get_maintenance_schedule(session, schedule_id=schedule_id)
        done = MaintenanceRecordCreate(kind="preventive", performed_on=dt.date.today(), schedule_id=schedule.id,
                                       notes=schedule.task)
        await registry.record_maintenance(session, actor=principal.actor, device_id=schedule.device_id, fields=done)
    except TradeloomError as exc:
        await tx.abandon()
        return await _maintenance_page(request, principal, tx, form_errors(exc), status_code=409)
    return RedirectResponse("/iot/maintenance", status_code=303)


def install(app: FastAPI) -> None:
    """Register the IoT pages, their templates and navigation items."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    for item in (
        NavItem("/iot", N_("Devices"), Permission.DEVICES_READ, order=60),
        NavItem("/iot/alarms", N_("Alarms"), Permission.DEVICES_READ, order=61),
        NavItem("/iot/production", N_("Production"), Permission.DEVICES_READ, order=62),
        NavItem("/iot/maintenance", N_("Maintenance"), Permission.DEVICES_READ, order=63),
    ):
        add_nav_item(item)
