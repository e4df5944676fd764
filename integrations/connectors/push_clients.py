"""Writing to their system: one ``create`` per profile, in that system's documented request/response shape.

- SAP S/4HANA OData v2: a CSRF token first (``GET`` the service root with ``x-csrf-token: Fetch``, keeping
  the session cookies), then ``POST /sap/opu/odata/sap/<service>/<entity set>`` with the record (a deep insert
  when it carries its items) → ``201 {"d": {...}}``.
- Odoo JSON-RPC: ``object.execute_kw(db, uid, password, model, "create", [values])`` → the new id; a list of
  dicts in the values (order lines) is sent as x2many create commands ``[0, 0, {...}]``.
- Kingdee K/3 Cloud WebAPI: ``…DynamicFormService.Save.common.kdsvc`` ``{"formid", "data": {"Model": …}}``
  → ``{"Result": {"ResponseStatus": {"IsSuccess", "Errors", "SuccessEntitys"}, "Id", "Number"}}``.
- Yonyou U8+ OpenAPI: a ``tradeid`` from ``/system/tradeid`` (U8 runs an add once per trade id), then
  ``POST /api/<resource>/add?…&token&tradeid`` with ``{<body_key>: record}`` → ``errcode`` "0" and ``id``.

Transport errors and 5xx are retried by ``Transport``; a refusal raises ``ConnectorRefused`` (not retried).
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from integrations.connectors.clients import (
    ConnectorRefused,
    KingdeeClient,
    OdooClient,
    SapODataClient,
    YonyouClient,
    _json,
)

KINGDEE_SAVE = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc"


async def sap_create(erp: SapODataClient, target: Mapping[str, Any], record: dict[str, Any]) -> Any:
    root = f"/sap/opu/odata/sap/{target['service']}/"
    fetched = await erp.transport.send(erp.http, "GET", root, params={"$format": "json"},
                                       headers={"x-csrf-token": "Fetch"})
    token = fetched.headers.get("x-csrf-token", "")
    answer = await erp.transport.send(erp.http, "POST", root + str(target["entity"]), json=record, headers={
        "x-csrf-token": token, "Accept": "application/json", "Content-Type": "application/json"})
    return _json(answer)


def _odoo_values(record: dict[str, Any]) -> dict[str, Any]:
    return {key: [[0, 0, _odoo_values(item)] for item in value]
            if isinstance(value, list) and value and all(isinstance(item, dict) for item in value) else value
            for key, value in record.items()}


async def odoo_create(erp: OdooClient, target: Mapping[str, Any], record: dict[str, Any]) -> Any:
    return await erp.rpc("object", "execute_kw", erp.credential("database"), erp.uid, erp.credential("password"),
                         target["model"], "create", [_odoo_values(record)])


async def kingdee_create(erp: KingdeeClient, target: Mapping[str, Any], record: dict[str, Any]) -> Any:
    answer = await erp.call("POST", KINGDEE_SAVE, json={"formid": target["form_id"], "data": {"Model": record}})
    status = answer.get("Result", {}).get("ResponseStatus", {}) if isinstance(answer, dict) else {}
    if not status.get("IsSuccess"):
        errors = "; ".join(str(error.get("Message")) for error in status.get("Errors") or []) or "save refused"
        raise ConnectorRefused(f"Kingdee: {errors}")
    return answer


async def yonyou_create(erp: YonyouClient, target: Mapping[str, Any], record: dict[str, Any]) -> Any:
    keys = {"from_account": erp.credential("from_account"), "to_account": erp.credential("to_account"),
            "app_key": erp.credential("app_key"), "token": erp.token}
    trade = erp._checked(await erp.call("GET", "/system/tradeid", params=keys))
    api = str(target["api"])
    return erp._checked(await erp.call("POST", f"/api/{api}", params=keys | {"tradeid": str(trade["id"])},
                                       json={str(target["body_key"]): record}))


Create = Callable[[Any, Mapping[str, Any], dict[str, Any]], Awaitable[Any]]
CREATES: dict[str, Create] = {"sap_s4hana": sap_create, "odoo": odoo_create, "kingdee_k3cloud": kingdee_create,
                              "yonyou_u8": yonyou_create}
