"""Fixtures for integration tests: a real HTTP receiver on 127.0.0.1 that records webhook requests."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.integrations.erp_push_server import push_erp  # noqa: F401  (the local ERP that takes pushes)
from tests.integrations.erp_server import erp, serving  # noqa: F401  (erp: the local ERP fixture)


@dataclass
class Receiver:
    url: str
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(({key.lower(): value for key, value in self.headers.items()}, body))
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"thanks" if state.status < 300 else b"receiver is broken")

        def log_message(self, *args: object) -> None:
            return

    with serving(Handler) as url:
        state.url = f"{url}/hooks/tradeloom"
        yield state
