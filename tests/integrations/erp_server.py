"""A local ERP for connector tests: one HTTP server on 127.0.0.1 that answers the calls our profiles make,
in the documented shapes of each system:

- SAP S/4HANA OData v2: basic auth; ``GET /sap/opu/odata/sap/<service>/`` (service document,
  ``d.EntitySets``) and ``/<service>/<EntitySet>?$format=json&$top&$skip&$expand`` (``d.results``;
  ``$filter`` of ``eq`` / ``ne`` terms joined by ``and``).
- Odoo: ``POST /jsonrpc`` with ``{"jsonrpc": "2.0", "method": "call", "params": {"service", "method",
  "args"}}``: ``common.login`` → uid (false when refused), ``object.execute_kw(db, uid, pwd, model,
  "search_read", [domain], {fields, offset, limit})`` → list of dicts (domains of ``=``, ``!=``, ``>``
  terms, ``parent_id.x`` through a many2one of the same model).
- Kingdee K/3 Cloud: ``POST …AuthService.ValidateUser.common.kdsvc`` → ``LoginResultType`` 1 and a
  ``kdservice-sessionid`` cookie; ``POST …DynamicFormService.ExecuteBillQuery.common.kdsvc`` with
  ``{"data": {FormId, FieldKeys, StartRow, Limit}}`` → rows as lists in FieldKeys order.
- Yonyou U8+ OpenAPI: ``GET /system/token`` → ``{"errcode": "0", "token": {"id", "expiresIn"}}``;
  ``GET /api/<resource>/batch_get?token&page_index&rows_per_page`` → ``errcode``, ``page_count`` and the list.

- Salesforce REST: ``POST /services/oauth2/token`` (form: ``grant_type=client_credentials``, ``client_id``,
  ``client_secret``) → ``access_token`` (400 ``invalid_client`` when refused); ``GET /services/data/v60.0/query?q=``
  with ``Authorization: Bearer`` → ``{totalSize, done, records, nextRecordsUrl}`` in batches of
  ``salesforce_batch`` (the records of the sObject named after ``FROM``; the WHERE clause is not evaluated),
  401 ``INVALID_SESSION_ID`` without the token.

Faults for hostile tests: ``fail_next`` answers that many requests with 500; ``stall_next`` answers that
many requests only after ``stall_seconds`` (longer than the client's timeout).
"""

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

KINGDEE = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub."
SAP = "/sap/opu/odata/sap/"
SALESFORCE = "/services/data/v60.0/"


@dataclass
class FakeErp:
    url: str = ""
    username: str = "tradeloom"
    password: str = "s3cret"
    odata: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "SERVICE/EntitySet" → entities
    odoo: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # model → records
    kingdee: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # FormId → records by field key
    yonyou: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # resource → records
    salesforce: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sObject → records
    salesforce_batch: int = 2
    fail_next: int = 0
    stall_next: int = 0
    stall_seconds: float = 2.0
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self) -> str | None:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return "fail"
            if self.stall_next:
                self.stall_next -= 1
                return "stall"
        return None


def _page(items: list[Any], start: int, size: int) -> list[Any]:
    return items[start:start + size]


def _odoo_value(record: dict[str, Any], path: str, records: list[dict[str, Any]]) -> Any:
    """A field, or ``parent_id.customer_rank``: a field of the many2one's record (same model here)."""
    head, _, rest = path.partition(".")
    value = record.get(head, False)
    if not rest:
        return value
    related = next((other for other in records if value and other.get("id") == value[0]), None)
    return False if related is None else _odoo_value(related, rest, records)


_ODOO_OPERATORS = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a is not False and a > b}


def odoo_domain(records: list[dict[str, Any]], domain: list[Any]) -> list[dict[str, Any]]:
    """Records matching an Odoo domain of ``[field, operator, value]`` terms (implicitly ANDed)."""
    return [record for record in records if all(
        _ODOO_OPERATORS[operator](_odoo_value(record, path, records), value) for path, operator, value in domain)]


def odata_filter(entities: list[dict[str, Any]], expression: str) -> list[dict[str, Any]]:
    """Entities matching ``Field eq 'v' and Field ne 'w'`` (the subset of $filter the profiles use)."""
    terms = [term.split(" ", 2) for term in expression.split(" and ") if term.strip()]
    return [entity for entity in entities if all(
        (str(entity.get(name, "")) == value.strip("'")) == (operator == "eq") for name, operator, value in terms)]


class _Handler(BaseHTTPRequestHandler):
    erp: FakeErp

    def log_message(self, *args: object) -> None:
        return

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _faulted(self) -> bool:
        fault = self.erp.fault()
        if fault == "stall":
            time.sleep(self.erp.stall_seconds)
        if fault == "fail":
            self._send(500, {"error": "internal server error"})
        return fault is not None

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        return json.loads(raw or b"null")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.erp.calls.append(f"GET {parts.path}")
        if self._faulted():
            return
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path.startswith(SAP):
            self._odata(parts.path.removeprefix(SAP), query)
        elif parts.path == "/system/token":
            self._yonyou_token(query)
        elif parts.path.startswith("/api/"):
            self._yonyou_list(parts.path.removeprefix("/api/"), query)
        elif parts.path.startswith(SALESFORCE):
            self._salesforce(parts.path.removeprefix(SALESFORCE), query)
        else:
            self._send(404, {"error": "no such path"})

    def do_POST(self) -> None:
        self.erp.calls.append(f"POST {self.path}")
        body = self._body()
        if self._faulted():
            return
        if self.path == "/jsonrpc":
            self._odoo(body)
        elif self.path == KINGDEE + "AuthService.ValidateUser.common.kdsvc":
            self._kingdee_login(body)
        elif self.path == KINGDEE + "DynamicFormService.ExecuteBillQuery.common.kdsvc":
            self._kingdee_query(body)
        elif self.path == "/services/oauth2/token":
            self._salesforce_token(body)
        else:
            self._send(404, {"error": "no such path"})

    # SAP OData v2
    def _odata(self, path: str, query: dict[str, str]) -> None:
        expected = "Basic " + base64.b64encode(f"{self.erp.username}:{self.erp.password}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._send(401, {"error": {"code": "/IWFND/CM_CONSUMER/401", "message": {"value": "Unauthorized"}}})
            return
        service, _, entity_set = path.partition("/")
        if not entity_set:
            sets = sorted({key.split("/")[1] for key in self.erp.odata if key.startswith(service + "/")})
            self._send(200, {"d": {"EntitySets": sets or ["A_BusinessPartner"]}})
            return
        entities = self.erp.odata.get(f"{service}/{entity_set}")
        if entities is None:
            self._send(404, {"error": {"code": "005056A509B11EE1B9A8FEC11C21578E",
                                       "message": {"value": "Resource not found"}}})
            return
        entities = odata_filter(entities, query.get("$filter", ""))
        page = _page(entities, int(query.get("$skip", 0)), int(query.get("$top", 1000)))
        self._send(200, {"d": {"results": page}})

    # Odoo JSON-RPC
    def _odoo(self, body: dict[str, Any]) -> None:
        params = body["params"]
        if (params["service"], params["method"]) == ("common", "login"):
            _database, login, password = params["args"]
            ok = (login, password) == (self.erp.username, self.erp.password)
            self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "result": 7 if ok else False})
            return
        _database, uid, password, model, method, (domain,), kwargs = params["args"]
        if uid != 7 or password != self.erp.password or method != "search_read":
            self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "error": {
                "code": 200, "message": "Odoo Server Error", "data": {"message": "Access Denied"}}})
            return
        records = odoo_domain(self.erp.odoo.get(model, []), domain)
        fields = kwargs.get("fields") or []
        page = [{key: record.get(key, False) for key in fields} if fields else record
                for record in _page(records, kwargs.get("offset", 0), kwargs.get("limit", 80))]
        self._send(200, {"jsonrpc": "2.0", "id": body.get("id"), "result": page})

    # Kingdee K/3 Cloud WebAPI
    def _kingdee_login(self, body: dict[str, Any]) -> None:
        if (body.get("username"), body.get("password")) != (self.erp.username, self.erp.password):
            self._send(200, {"LoginResultType": 0, "Message": "用户名或密码错误"})
            return
        self._send(200, {"LoginResultType": 1, "Message": None, "KDSVCSessionId": "kd-session-1"},
                   {"Set-Cookie": "kdservice-sessionid=kd-session-1; Path=/"})

    def _kingdee_query(self, body: dict[str, Any]) -> None:
        if "kdservice-sessionid=kd-session-1" not in (self.headers.get("Cookie") or ""):
            lost = {"IsSuccess": False, "ErrorCode": 500, "Errors": [{"Message": "会话信息已丢失，请重新登录"}]}
            self._send(200, [[{"Result": {"ResponseStatus": lost}}]])
            return
        data = body["data"]
        keys = data["FieldKeys"].split(",")
        records = self.erp.kingdee.get(data["FormId"], [])
        self._send(200, [[record.get(key) for key in keys]
                         for record in _page(records, data.get("StartRow", 0), data.get("Limit", 2000))])

    # Yonyou U8+ OpenAPI
    def _yonyou_token(self, query: dict[str, str]) -> None:
        if (query.get("app_key"), query.get("app_secret")) != (self.erp.username, self.erp.password):
            self._send(200, {"errcode": "40001", "errmsg": "app_key or app_secret is invalid"})
            return
        self._send(200, {"errcode": "0", "errmsg": "", "token": {"id": "yy-token-1", "expiresIn": 7200}})

    def _yonyou_list(self, resource: str, query: dict[str, str]) -> None:
        if query.get("token") != "yy-token-1":
            self._send(200, {"errcode": "30002", "errmsg": "token is invalid"})
            return
        name = resource.removesuffix("/batch_get")
        records = self.erp.yonyou.get(name, [])
        size, index = int(query.get("rows_per_page", 20)), int(query.get("page_index", 1))
        pages = max(1, -(-len(records) // size))
        self._send(200, {"errcode": "0", "errmsg": "", "page_index": str(index), "rows_per_page": str(size),
                         "row_count": str(len(records)), "page_count": str(pages),
                         name: _page(records, (index - 1) * size, size)})

    # Salesforce REST
    def _salesforce_token(self, form: dict[str, str]) -> None:
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials", self.erp.username, self.erp.password):
            self._send(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
            return
        self._send(200, {"access_token": "sf-token-1", "instance_url": self.erp.url, "token_type": "Bearer"})

    def _salesforce(self, path: str, query: dict[str, str]) -> None:
        if self.headers.get("Authorization") != "Bearer sf-token-1":
            self._send(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
            return
        if path == "sobjects":
            self._send(200, {"sobjects": [{"name": name} for name in sorted(self.erp.salesforce)]})
            return
        if path == "query":
            sobject, start = query.get("q", "").split(" FROM ")[1].split()[0], 0
        else:  # query/<sObject>-<start>: the nextRecordsUrl of a batch
            sobject, _, offset = path.removeprefix("query/").rpartition("-")
            start = int(offset)
        records = self.erp.salesforce.get(sobject, [])
        end = start + self.erp.salesforce_batch
        done = end >= len(records)
        self._send(200, {"totalSize": len(records), "done": done, "records": records[start:end]}
                   | ({} if done else {"nextRecordsUrl": f"{SALESFORCE}query/{sobject}-{end}"}))


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def erp() -> Iterator[FakeErp]:
    state = FakeErp()
    with serving(type("Handler", (_Handler,), {"erp": state})) as url:
        state.url = url
        yield state
