"""Registering handles with an IDIS secondary node (工业互联网标识解析二级节点).

``SecondaryNode`` is what the platform needs from a node; ``SnmsNodeClient`` speaks the enterprise-node
HTTP interface of the SNMS secondary-node software (its "标识操作接口" document, v3): JSON over HTTP,
``Authorization: Bearer <token>``, every answer an envelope ``{"status": 1, "message": "success", "data": …}``
where any other status is a failure, handle values as ``{"index", "type", "data": {"format", "value"}}``.
docs/identifiers-and-epcis.md lists which paths the document confirmed and which are configurable guesses.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from tradeloom.errors import Unavailable

SUCCESS = 1


class SecondaryNodeError(Unavailable):
    """The node refused or could not be reached; the caller retries later (the registration stays ours)."""

    default_code = "secondary_node_failed"


@dataclass(frozen=True)
class NodeRecord:
    handle: str
    values: Sequence[dict[str, Any]]
    template_version: str | None = None

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"handle": self.handle, "value": [dict(v) for v in self.values]}
        if self.template_version:
            body["templateVersion"] = self.template_version
        return body


@dataclass(frozen=True)
class BatchResult:
    created: list[str]
    failed: dict[str, str] = field(default_factory=dict)


class SecondaryNode(Protocol):
    async def get(self, handle: str) -> NodeRecord | None: ...
    async def create(self, record: NodeRecord) -> None: ...
    async def update(self, record: NodeRecord) -> None: ...
    async def delete(self, handle: str) -> None: ...
    async def batch_create(self, records: Sequence[NodeRecord]) -> BatchResult: ...


@dataclass(frozen=True)
class SnmsPaths:
    """Request paths; the defaults follow the SNMS v3 document (see the module docstring)."""

    data: str = "/identityv2/data"
    detail: str = "/identityv2/data/detail"
    batch: str = "/identityv2/data/batch"


NOT_FOUND_MESSAGES = ("not exist", "不存在")


class SnmsNodeClient:
    """``SecondaryNode`` over httpx; give it the node's base URL and the token the node issued."""

    def __init__(self, base_url: str, token: str, *, paths: SnmsPaths | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, timeout: float = 10.0) -> None:
        self._paths = paths or SnmsPaths()
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport,
                                       headers={"Authorization": f"Bearer {token}"})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, handle: str) -> NodeRecord | None:
        envelope = await self._call("GET", self._paths.detail, params={"handle": handle}, missing_ok=True)
        if envelope is None or not envelope.get("data"):
            return None
        data = envelope["data"]
        return NodeRecord(handle=data["handle"], values=data.get("value", []),
                          template_version=data.get("templateVersion"))

    async def create(self, record: NodeRecord) -> None:
        await self._call("POST", self._paths.data, json=record.as_json())

    async def update(self, record: NodeRecord) -> None:
        await self._call("PUT", self._paths.data, json=record.as_json())

    async def delete(self, handle: str) -> None:
        await self._call("DELETE", self._paths.data, params={"handle": handle})

    async def batch_create(self, records: Sequence[NodeRecord]) -> BatchResult:
        envelope = await self._call("POST", self._paths.batch, json=[r.as_json() for r in records])
        results = (envelope or {}).get("data") or []
        failed = {r["handle"]: str(r.get("message", "failed")) for r in results if r.get("status") != SUCCESS}
        return BatchResult(created=[r.handle for r in records if r.handle not in failed], failed=failed)

    async def _call(self, method: str, path: str, *, missing_ok: bool = False, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SecondaryNodeError(f"Secondary node unreachable: {exc}") from exc
        if response.status_code in (401, 403):
            raise SecondaryNodeError("The secondary node rejected our token.", code="secondary_node_auth")
        try:
            envelope = response.json()
        except ValueError as exc:
            raise SecondaryNodeError(f"Secondary node answered HTTP {response.status_code} without JSON.") from exc
        if envelope.get("status") == SUCCESS:
            return envelope
        message = str(envelope.get("message", ""))
        if missing_ok and (response.status_code == 404 or any(m in message for m in NOT_FOUND_MESSAGES)):
            return None
        raise SecondaryNodeError(f"Secondary node refused {method} {path}: {message or response.status_code}")
