"""The ERP side of a connector: one client per profile, speaking that system's documented protocol.

Each client logs in, reads their objects page by page (``pull``) and answers ``check`` for the "test
connection" action. Every HTTP call goes through ``Transport``, which retries timeouts, connection errors
and 5xx answers with exponential backoff; what still fails raises ``ConnectorUnavailable`` (the sync is
retried later; nothing is half-written because records are only handed on once fully read).
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

PAGE_SIZE = 200


class ConnectorUnavailable(Exception):
    """Their system did not answer usably, even after retries (5xx, timeout, refused connection)."""


class ConnectorRefused(Exception):
    """Their system answered but said no (bad credentials, unknown object): retrying will not help."""


@dataclass(frozen=True)
class Transport:
    base_url: str
    timeout_seconds: float
    attempts: int = 3
    backoff_seconds: float = 1.0

    async def send(self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to one call; retried on timeouts, connection errors and 5xx."""
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                response = await client.request(method, self.base_url.rstrip("/") + path, **kwargs)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__} calling {path}"
                continue
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code} from {path}"
                continue
            if response.status_code >= 400:
                raise ConnectorRefused(f"HTTP {response.status_code} from {path}: {response.text[:200]}")
            return response
        raise ConnectorUnavailable(f"{problem} (after {self.attempts} attempts)")

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout_seconds)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ConnectorRefused(f"{response.request.url.path} did not answer with JSON") from None


class ErpClient:
    """A logged-in session with one ERP; use as ``async with``."""

    profile: ClassVar[str]

    def __init__(self, transport: Transport, credentials: Mapping[str, str]) -> None:
        self.transport = transport
        self.credentials = credentials
        self.http = transport.client()

    async def __aenter__(self) -> "ErpClient":
        await self.login()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    def credential(self, name: str) -> str:
        value = self.credentials.get(name)
        if not value:
            raise ConnectorRefused(f"the connector's credentials lack {name!r}")
        return value

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _json(await self.transport.send(self.http, method, path, **kwargs))

    async def login(self) -> None:
        """Open the session (a no-op for systems that authenticate every call)."""

    async def check(self) -> str:
        """What the "test connection" action shows when the login worked."""
        return "signed in"

    def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        raise NotImplementedError


class SapODataClient(ErpClient):
    """SAP S/4HANA OData v2 (``/sap/opu/odata/sap/<service>/<entity set>``), basic authentication.

    Lists come as ``{"d": {"results": [...]}}``; pages are read with ``$top``/``$skip``.
    """

    profile = "sap_s4hana"

    async def login(self) -> None:
        self.http.auth = httpx.BasicAuth(self.credential("username"), self.credential("password"))

    async def check(self) -> str:
        document = await self.call("GET", "/sap/opu/odata/sap/API_BUSINESS_PARTNER/", params={"$format": "json"})
        return f"{len(read_results(document, 'EntitySets'))} entity sets in API_BUSINESS_PARTNER"

    async def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        path = f"/sap/opu/odata/sap/{source['service']}/{source['entity']}"
        params = {"$format": "json", "$top": str(PAGE_SIZE)} | (
            {"$expand": source["expand"]} if source.get("expand") else {}) | (
            {"$filter": source["filter"]} if source.get("filter") else {})
        skip = 0
        while True:
            page = read_results(await self.call("GET", path, params=params | {"$skip": str(skip)}), "results")
            if page:
                yield page
            if len(page) < PAGE_SIZE:
                return
            skip += PAGE_SIZE


def read_results(document: Any, key: str) -> list[Any]:
    """``d.<key>`` of an OData v2 answer; a refusal when the shape is not OData."""
    found = document.get("d", {}).get(key) if isinstance(document, dict) else None
    if not isinstance(found, list):
        raise ConnectorRefused(f"the answer has no d.{key} list (is this an OData v2 service?)")
    return found


class OdooClient(ErpClient):
    """Odoo's JSON-RPC endpoint ``/jsonrpc``: ``common.login`` for the uid, then ``object.execute_kw``."""

    profile = "odoo"
    uid: int

    async def rpc(self, service: str, method: str, *args: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"service": service, "method": method, "args": list(args)}}
        answer = await self.call("POST", "/jsonrpc", json=body)
        if "error" in answer:
            error = answer["error"]
            raise ConnectorRefused(f"Odoo: {error.get('data', {}).get('message') or error.get('message')}")
        return answer.get("result")

    async def login(self) -> None:
        uid = await self.rpc("common", "login", self.credential("database"), self.credential("username"),
                             self.credential("password"))
        if not uid:
            raise ConnectorRefused("Odoo refused the login (database, user or password)")
        self.uid = int(uid)

    async def check(self) -> str:
        return f"signed in as uid {self.uid}"

    async def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        offset = 0
        while True:
            page = await self.rpc("object", "execute_kw", self.credential("database"), self.uid,
                                  self.credential("password"), source["model"], "search_read",
                                  [source.get("domain", [])],
                                  {"fields": source.get("fields", []), "offset": offset, "limit": PAGE_SIZE,
                                   "order": "id"})
            if page:
                yield page
            if len(page) < PAGE_SIZE:
                return
            offset += PAGE_SIZE


KINGDEE_LOGIN = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.AuthService.ValidateUser.common.kdsvc"
KINGDEE_QUERY = "/k3cloud/Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.ExecuteBillQuery.common.kdsvc"


class KingdeeClient(ErpClient):
    """Kingdee K/3 Cloud WebAPI: ``ValidateUser`` sets the session cookie, ``ExecuteBillQuery`` reads rows.

    ``ExecuteBillQuery`` answers a list of rows, each a list in ``FieldKeys`` order; they are turned into
    dicts keyed by field key. An error comes back as ``[[{"Result": {"ResponseStatus": {...}}}]]``.
    """

    profile = "kingdee_k3cloud"

    async def login(self) -> None:
        answer = await self.call("POST", KINGDEE_LOGIN, json={
            "acctID": self.credential("acct_id"), "username": self.credential("username"),
            "password": self.credential("password"), "lcid": 2052})
        if answer.get("LoginResultType") != 1:
            raise ConnectorRefused(f"Kingdee refused the login: {answer.get('Message') or 'no reason given'}")

    async def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        keys = list(source["field_keys"])
        start = 0
        while True:
            rows = await self.call("POST", KINGDEE_QUERY, json={"data": {
                "FormId": source["form_id"], "FieldKeys": ",".join(keys), "FilterString": source.get("filter", ""),
                "OrderString": "", "TopRowCount": 0, "StartRow": start, "Limit": PAGE_SIZE}})
            if rows and isinstance(rows[0], list) and rows[0] and isinstance(rows[0][0], dict):
                status = rows[0][0].get("Result", {}).get("ResponseStatus", {})
                raise ConnectorRefused(f"Kingdee: {status.get('Errors') or 'query refused'}")
            if rows:
                yield [dict(zip(keys, row, strict=False)) for row in rows]
            if len(rows) < PAGE_SIZE:
                return
            start += PAGE_SIZE


class YonyouClient(ErpClient):
    """Yonyou U8+ OpenAPI: a token from ``/system/token``, then ``/api/<resource>/batch_get`` by pages.

    Every answer carries ``errcode`` ("0" is success) and, for lists, ``page_index`` / ``page_count``.
    """

    profile = "yonyou_u8"
    token: str

    def _checked(self, answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict) or str(answer.get("errcode")) != "0":
            message = answer.get("errmsg") if isinstance(answer, dict) else "no JSON object"
            raise ConnectorRefused(f"Yonyou: {message}")
        return answer

    async def login(self) -> None:
        answer = self._checked(await self.call("GET", "/system/token", params={
            "from_account": self.credential("from_account"), "app_key": self.credential("app_key"),
            "app_secret": self.credential("app_secret")}))
        self.token = str(answer["token"]["id"])

    async def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        page_index = 1
        while True:
            answer = self._checked(await self.call("GET", f"/api/{source['api']}", params={
                "from_account": self.credential("from_account"), "to_account": self.credential("to_account"),
                "app_key": self.credential("app_key"), "token": self.token,
                "page_index": str(page_index), "rows_per_page": str(PAGE_SIZE)}))
            rows = answer.get(source["list_key"]) or []
            if rows:
                yield rows
            if page_index >= int(answer.get("page_count") or 1):
                return
            page_index += 1


class SalesforceClient(ErpClient):
    """Salesforce-style REST: an OAuth 2.0 token (client credentials flow at ``/services/oauth2/token``, or a
    given ``access_token``), then the query API ``GET /services/data/<version>/query?q=<SOQL>`` → ``records``,
    following ``nextRecordsUrl`` until ``done``. The token answer's ``instance_url`` is not followed: calls
    stay on the connector's checked URL (the My Domain URL)."""

    profile = "salesforce"
    api_version = "v60.0"

    async def login(self) -> None:
        token = self.credentials.get("access_token")
        if not token:
            answer = await self.call("POST", "/services/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": self.credential("client_id"),
                "client_secret": self.credential("client_secret")})
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not token:
                raise ConnectorRefused("Salesforce gave no access token")
        self.http.headers["Authorization"] = f"Bearer {token}"

    async def check(self) -> str:
        answer = await self.call("GET", f"/services/data/{self.api_version}/sobjects")
        return f"{len(answer.get('sobjects') or [])} objects readable"

    async def pull(self, source: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        answer = await self.call("GET", f"/services/data/{self.api_version}/query", params={"q": source["query"]})
        while True:
            records = answer.get("records") if isinstance(answer, dict) else None
            if not isinstance(records, list):
                raise ConnectorRefused("the query answer has no records list")
            if records:
                yield records
            if answer.get("done", True) or not answer.get("nextRecordsUrl"):
                return
            answer = await self.call("GET", str(answer["nextRecordsUrl"]))


CLIENTS: dict[str, type[ErpClient]] = {
    client.profile: client for client in (SapODataClient, OdooClient, KingdeeClient, YonyouClient,
                                           SalesforceClient)}
