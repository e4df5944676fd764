"""Prefixed routers decline other paths at once, and still answer their own under any root path."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tradeloom.routing import PrefixedRouter


def _app() -> FastAPI:
    things, others = PrefixedRouter(prefix="/api/things"), PrefixedRouter(prefix="/api/others")

    @things.get("/{thing_id}")
    def read_thing(thing_id: int) -> dict[str, int]:
        return {"thing": thing_id}

    @others.get("/{other_id}")
    def read_other(other_id: int) -> dict[str, int]:
        return {"other": other_id}

    app = FastAPI()
    app.include_router(others)
    app.include_router(things)
    return app


@pytest.mark.parametrize("root_path", ["", "/tradeloom"])
def test_each_router_answers_its_own_paths_and_no_other(root_path: str) -> None:
    client = TestClient(_app(), root_path=root_path)
    assert client.get(f"{root_path}/api/things/7").json() == {"thing": 7}
    assert client.get(f"{root_path}/api/others/8").json() == {"other": 8}
    assert client.get(f"{root_path}/api/thingsx/7").status_code == 404
    assert client.get(f"{root_path}/api/nothing").status_code == 404
