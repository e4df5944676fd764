"""The secondary-node client against a local server speaking the SNMS enterprise-node HTTP interface."""

import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.jobs import node_record, push_identifier
from ledger.identifiers.schemas import IdentifierCreate
from ledger.identifiers.secondary_node import NodeRecord, SecondaryNodeError, SnmsNodeClient
from ledger.identifiers.service import register_identifier
from tests.factories import make_member
from tradeloom.audit import Actor
from tradeloom.db import apply_tenant
from tradeloom.identity.roles import Role
from tradeloom.net import free_port

TOKEN = "node-token-for-tests"
URL_VALUE = {"index": 1, "type": "URL", "data": {"format": "string", "value": "http://127.0.0.1:8000/t/88.118.8866/A"}}


def envelope(status: int, message: str, data: Any = None, http_status: int = 200) -> JSONResponse:
    return JSONResponse({"status": status, "message": message, "data": data}, status_code=http_status)


def snms_node() -> FastAPI:
    """A secondary node keeping handles in memory, answering with the document's envelope and codes."""
    app, records = FastAPI(), {}

    def authorised(authorization: str | None) -> bool:
        return authorization == f"Bearer {TOKEN}"

    @app.middleware("http")
    async def token(request: Request, call_next: Any) -> Any:
        if not authorised(request.headers.get("authorization")):
            return envelope(-1, "token无效", http_status=401)
        return await call_next(request)

    @app.get("/identityv2/data/detail")
    async def detail(handle: str) -> JSONResponse:
        if handle not in records:
            return envelope(-1, "标识不存在")
        prefix = handle.split("/")[0]
        return envelope(1, "success", {"prefix": prefix, "handle": handle, **records[handle]})

    def store(body: dict[str, Any], *, exists: bool) -> JSONResponse:
        if "handle" not in body or not body.get("value"):
            return envelope(-2, "缺少必要的请求参数: handle")
        if (body["handle"] in records) != exists:
            return envelope(-1, "标识已存在" if not exists else "标识不存在")
        records[body["handle"]] = {"templateVersion": body.get("templateVersion"), "value": body["value"]}
        return envelope(1, "success")

    @app.post("/identityv2/data")
    async def create(request: Request) -> JSONResponse:
        return store(await request.json(), exists=False)

    @app.put("/identityv2/data")
    async def update(request: Request) -> JSONResponse:
        return store(await request.json(), exists=True)

    @app.delete("/identityv2/data")
    async def delete(handle: str) -> JSONResponse:
        return envelope(1, "success") if records.pop(handle, None) else envelope(-1, "标识不存在")

    @app.post("/identityv2/data/batch")
    async def batch(request: Request) -> JSONResponse:
        results = []
        for body in await request.json():
            answer = store(body, exists=False)
            outcome = json.loads(bytes(answer.body))
            results.append({"handle": body["handle"], "status": outcome["status"], "message": outcome["message"]})
        return envelope(1, "success", results)

    return app


@pytest.fixture(scope="module")
def node_url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(snms_node(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
async def node(node_url: str) -> AsyncIterator[SnmsNodeClient]:
    client = SnmsNodeClient(node_url, TOKEN)
    yield client
    await client.aclose()


class TestSnmsNodeClient:
    async def test_create_read_update_delete(self, node: SnmsNodeClient) -> None:
        record = NodeRecord(handle="88.118.8866/CRUD-1", values=[URL_VALUE], template_version="1.0")
        await node.create(record)
        assert await node.get("88.118.8866/CRUD-1") == record
        changed = NodeRecord(handle="88.118.8866/CRUD-1", values=[URL_VALUE | {"index": 2}], template_version="1.0")
        await node.update(changed)
        assert await node.get("88.118.8866/CRUD-1") == changed
        await node.delete("88.118.8866/CRUD-1")
        assert await node.get("88.118.8866/CRUD-1") is None

    async def test_creating_an_existing_handle_is_refused(self, node: SnmsNodeClient) -> None:
        await node.create(NodeRecord(handle="88.118.8866/DUP-1", values=[URL_VALUE]))
        with pytest.raises(SecondaryNodeError, match="标识已存在"):
            await node.create(NodeRecord(handle="88.118.8866/DUP-1", values=[URL_VALUE]))

    async def test_batch_create_reports_each_handle(self, node: SnmsNodeClient) -> None:
        await node.create(NodeRecord(handle="88.118.8866/BATCH-OLD", values=[URL_VALUE]))
        result = await node.batch_create([NodeRecord(handle="88.118.8866/BATCH-NEW", values=[URL_VALUE]),
                                          NodeRecord(handle="88.118.8866/BATCH-OLD", values=[URL_VALUE])])
        assert result.created == ["88.118.8866/BATCH-NEW"]
        assert result.failed == {"88.118.8866/BATCH-OLD": "标识已存在"}

    async def test_a_wrong_token_is_reported_as_such(self, node_url: str) -> None:
        client = SnmsNodeClient(node_url, "stolen")
        with pytest.raises(SecondaryNodeError) as refused:
            await client.get("88.118.8866/ANY")
        await client.aclose()
        assert (refused.value.status, refused.value.code) == (503, "secondary_node_auth")

    async def test_an_unreachable_node_is_503(self) -> None:
        client = SnmsNodeClient(f"http://127.0.0.1:{free_port()}", TOKEN, timeout=1)
        with pytest.raises(SecondaryNodeError, match="unreachable"):
            await client.create(NodeRecord(handle="88.118.8866/X", values=[URL_VALUE]))
        await client.aclose()


class TestSyncJob:
    async def test_the_node_follows_registration_publication_and_withdrawal(
        self, node: SnmsNodeClient, session: AsyncSession
    ) -> None:
        # given a published identifier of an organization
        member = await make_member(session, roles=(Role.WAREHOUSE,))
        await apply_tenant(session, org_id=member.org.id)
        identifier = await register_identifier(
            session, actor=Actor(org_id=member.org.id, user_id=member.user.id), prefix="88.118.8866", base_url="http://127.0.0.1:8000",
            fields=IdentifierCreate(suffix="SYNC-1", published=True),
        )
        found = await node_record(session, identifier_id=identifier.id)
        assert found is not None
        record, published = found
        # when the job runs, runs again, and runs after the identifier was withdrawn
        first = await push_identifier(node, record, published=published)
        again = await push_identifier(node, record, published=published)
        withdrawn = await push_identifier(node, record, published=False)
        # then
        assert (first, again, withdrawn) == ("created", "unchanged", "deleted")
        assert await node.get("88.118.8866/SYNC-1") is None

    async def test_changed_values_are_updated(self, node: SnmsNodeClient) -> None:
        record = NodeRecord(handle="88.118.8866/SYNC-2", values=[URL_VALUE])
        await push_identifier(node, record, published=True)
        changed = NodeRecord(handle="88.118.8866/SYNC-2", values=[URL_VALUE, URL_VALUE | {"index": 2}])
        assert await push_identifier(node, changed, published=True) == "updated"
        assert await node.get("88.118.8866/SYNC-2") == changed
