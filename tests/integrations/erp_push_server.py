"""The local ERP of ``erp_server`` taught the write calls our pushes make, in each system's documented shape:

- SAP OData v2: ``GET <service>/`` with ``x-csrf-token: Fetch`` → the token in ``x-csrf-token`` and a session
  cookie; ``POST <service>/<EntitySet>`` needs both (else ``403`` with ``x-csrf-token: Required``) → ``201
  {"d": {...the entity with its new key...}}``; an entity without ``Supplier``/``InvoicingParty`` is 400
  with the OData error shape (a material document: an item without ``PurchaseOrder``).
- Odoo: ``object.execute_kw(db, uid, pwd, model, "create", [values])`` → the new id.
- Kingdee: ``…DynamicFormService.Save.common.kdsvc`` ``{"formid", "data": {"Model"}}`` → ``Result`` with
  ``ResponseStatus`` (``IsSuccess``, ``Errors``, ``SuccessEntitys``), ``Id`` and ``Number``.
- Yonyou U8+: ``GET /system/tradeid`` → a trade id; ``POST /api/<voucher>/add?…&token&tradeid`` → ``errcode``
  "0" and ``id``; the same trade id again answers the voucher made the first time (U8's idempotency).

What was created is kept in ``created`` ("SERVICE/EntitySet", the Odoo model, the Kingdee FormId, the U8 voucher).
"""

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integrations.erp_server import KINGDEE, SAP, FakeErp, _Handler, serving

SAP_KEYS = {"A_PurchaseOrder": ("PurchaseOrder", "45000000"), "A_SupplierInvoice": ("SupplierInvoice", "51056000"),
            "A_MaterialDocumentHeader": ("MaterialDocument", "49000000")}


@dataclass
class PushErp(FakeErp):
    created: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trades: dict[str, str] = field(default_factory=dict)  # U8 trade id → voucher id
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def keep(self, where: str, record: dict[str, Any]) -> int:
        self.created.setdefault(where, []).append(record)
        return next(self.numbers)


class _PushHandler(_Handler):
    erp: PushErp

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if self.headers.get("x-csrf-token") == "Fetch" and parts.path.startswith(SAP):
            self.erp.calls.append(f"GET {parts.path} (csrf)")
            if not self._faulted() and self._sap_authorized():
                self._send(200, {"d": {"EntitySets": []}}, {"x-csrf-token": "csrf-1",
                                                            "Set-Cookie": "SAP_SESSIONID_S4H_100=s4; Path=/"})
        elif parts.path == "/system/tradeid":
            self.erp.calls.append("GET /system/tradeid")
            if not self._faulted():
                self._send(200, {"errcode": "0", "errmsg": "", "id": f"trade-{next(self.erp.numbers)}"})
        else:
            super().do_GET()

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        self.erp.calls.append(f"POST {parts.path}")
        body = self._body()
        if self._faulted():
            return
        if parts.path.startswith(SAP):
            self._sap_create(parts.path.removeprefix(SAP), body)
        elif parts.path == "/jsonrpc" and body["params"]["args"][4:5] == ["create"]:
            self._odoo_create(body)
        elif parts.path == "/jsonrpc":
            self._odoo(body)
        elif parts.path == KINGDEE + "DynamicFormService.Save.common.kdsvc":
            self._kingdee_save(body)
        elif parts.path == KINGDEE + "AuthService.ValidateUser.common.kdsvc":
            self._kingdee_login(body)
        elif parts.path.startswith("/api/") and parts.path.endswith("/add"):
            self._yonyou_add(parts.path.removeprefix("/api/").removesuffix("/add"),
                             {key: values[0] for key, values in parse_qs(parts.query).items()}, body)
        else:
            self._send(404, {"error": "no such path"})

    def _sap_authorized(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.erp.username}:{self.erp.password}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, {"error": {"code": "/IWFND/CM_CONSUMER/401", "message": {"value": "Unauthorized"}}})
            return False
        return True

    def _sap_create(self, path: str, body: dict[str, Any]) -> None:
        if not self._sap_authorized():
            return
        if self.headers.get("x-csrf-token") != "csrf-1" or "SAP_SESSIONID" not in (self.headers.get("Cookie") or ""):
            self._send(403, {"error": {"message": {"value": "CSRF token validation failed"}}},
                       {"x-csrf-token": "Required"})
            return
        entity_set = path.partition("/")[2]
        items = body.get("to_MaterialDocumentItem") or []
        if not (body.get("Supplier") or body.get("InvoicingParty") or (items and all(
                item.get("PurchaseOrder") for item in items))):
            self._send(400, {"error": {"code": "ME/083", "message": {"lang": "en", "value": "Enter a supplier"}}})
            return
        key, stem = SAP_KEYS[entity_set]
        number = self.erp.keep(path, body)
        self._send(201, {"d": body | {key: f"{stem}{number:02d}"}})

    def _odoo_create(self, body: dict[str, Any]) -> None:
        _database, uid, password, model, _method, (values,) = body["params"]["args"][:6]
        if uid != 7 or password != self.erp.password:
            self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "error": {
                "code": 200, "message": "Odoo Server Error", "data": {"message": "Access Denied"}}})
            return
        if not values.get("partner_id"):
            self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "error": {
                "code": 200, "message": "Odoo Server Error",
                "data": {"name": "odoo.exceptions.ValidationError", "message": "The vendor is required"}}})
            return
        self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "result": 100 + self.erp.keep(model, values)})

    def _kingdee_save(self, body: dict[str, Any]) -> None:
        if "kdservice-sessionid=kd-session-1" not in (self.headers.get("Cookie") or ""):
            lost = {"IsSuccess": False, "ErrorCode": 500, "Errors": [{"Message": "会话信息已丢失，请重新登录"}]}
            self._send(200, {"Result": {"ResponseStatus": lost}})
            return
        model = body["data"]["Model"]
        if not model.get("FSupplierId", {}).get("FNumber"):
            status = {"IsSuccess": False, "ErrorCode": 500, "Errors": [
                {"FieldName": "FSupplierId", "Message": "字段“供应商”是必填项", "DIndex": 0}], "SuccessEntitys": []}
            self._send(200, {"Result": {"ResponseStatus": status}})
            return
        number = self.erp.keep(body["formid"], model)
        bill = f"CGDD{number:06d}"
        self._send(200, {"Result": {"ResponseStatus": {"IsSuccess": True, "Errors": [], "SuccessEntitys": [
            {"Id": 100000 + number, "Number": bill, "DIndex": 0}]}, "Id": 100000 + number, "Number": bill}})

    def _yonyou_add(self, voucher: str, query: dict[str, str], body: dict[str, Any]) -> None:
        if query.get("token") != "yy-token-1":
            self._send(200, {"errcode": "30002", "errmsg": "token is invalid"})
            return
        trade = query.get("tradeid", "")
        if not trade:
            self._send(200, {"errcode": "20001", "errmsg": "tradeid is required"})
            return
        if trade not in self.erp.trades:
            self.erp.trades[trade] = f"{self.erp.keep(voucher, body[voucher]):010d}"
        self._send(200, {"errcode": "0", "errmsg": "", "id": self.erp.trades[trade], "tradeid": trade})


@pytest.fixture
def push_erp() -> Iterator[PushErp]:
    state = PushErp()
    with serving(type("Handler", (_PushHandler,), {"erp": state})) as url:
        state.url = url
        yield state
