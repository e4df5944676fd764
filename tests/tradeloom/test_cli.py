"""The `tradeloom` command against a real database of its own (copied from the migrated template)."""

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import TEMPLATE_ENV
from tradeloom.cli import gunicorn_command
from tradeloom.db import libpq_url, with_database
from tradeloom.net import free_port


@pytest.fixture
def cli_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for running the command against a scratch database and this worker's Redis."""
    server_url = os.environ["TRADELOOM_TEST_DATABASE_URL"]
    name = f"tl_cli_{os.getpid()}"
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{os.environ[TEMPLATE_ENV]}"')
    yield {
        **os.environ, "TRADELOOM_DATABASE_URL": with_database(server_url, name),
        "TRADELOOM_REDIS_URL": os.environ["TRADELOOM_TEST_REDIS_URL"], "TRADELOOM_DATA_DIR": str(tmp_path),
    }
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tradeloom(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradeloom.cli", *args], env=env, capture_output=True, text=True,
                          input=stdin, timeout=300, check=False)  # a bound: seed-demo takes ~1 min on a loaded machine


def test_doctor_reports_a_healthy_platform(cli_database: dict[str, str]) -> None:
    result = tradeloom(cli_database, "doctor")
    assert result.returncode == 0, result.stderr
    assert "database   ok  PostgreSQL" in result.stdout
    assert "migrations ok" in result.stdout
    assert "redis      ok" in result.stdout


def test_doctor_says_what_is_wrong(cli_database: dict[str, str]) -> None:
    result = tradeloom(cli_database | {"TRADELOOM_REDIS_URL": "redis://127.0.0.1:1/0"}, "doctor")
    assert result.returncode == 1
    assert "PROBLEM    redis unreachable at redis://127.0.0.1:1/0" in result.stderr


def test_seed_demo_is_idempotent(cli_database: dict[str, str]) -> None:
    first = tradeloom(cli_database, "seed-demo")
    second = tradeloom(cli_database, "seed-demo")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "buyer@ecm.demo" in first.stdout
    with psycopg.connect(libpq_url(cli_database["TRADELOOM_DATABASE_URL"])) as conn:
        kinds = dict(conn.execute("SELECT kind, count(*) FROM organizations GROUP BY kind").fetchall())
        users = conn.execute("SELECT count(*) FROM users").fetchone()
        reviews = conn.execute("SELECT count(*) FROM supplier_reviews").fetchone()
    assert reviews == (2,)  # ecm rated nbpf on its received and closed demo orders, once
    assert kinds == {"platform_operator": 1, "buyer": 3, "supplier": 4, "both": 1, "logistics_provider": 1,
                     "financier": 1}
    assert users == (44,)  # operator 2, buyers 3 × 6, suppliers 5 × 4, logistics 2, financier 2


def test_create_admin_makes_a_platform_admin(cli_database: dict[str, str]) -> None:
    result = tradeloom(cli_database, "create-admin", "--email", "root@tradeloom.cn", "--password",
                       "a long enough password")
    assert result.returncode == 0, result.stderr
    with psycopg.connect(libpq_url(cli_database["TRADELOOM_DATABASE_URL"])) as conn:
        row = conn.execute("SELECT m.roles, o.kind FROM users u JOIN memberships m ON m.user_id = u.id "
                           "JOIN organizations o ON o.id = m.org_id WHERE u.email = 'root@tradeloom.cn'").fetchone()
    assert row == (["platform_admin"], "platform_operator")


@pytest.mark.parametrize(("level", "access_logged"), [("INFO", True), ("WARNING", False)])
def test_served_app_logs_at_the_configured_level(cli_database: dict[str, str], tmp_path: Path, level: str,
                                                 access_logged: bool) -> None:
    # given: the web app under gunicorn as `tradeloom serve` runs it, at a log level
    port = free_port()
    env = cli_database | {"TRADELOOM_LOG_LEVEL": level, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(gunicorn_command("127.0.0.1", port, workers=1), env=env,
                                  stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            # when: a request is answered
            answer = _first_answer(f"http://127.0.0.1:{port}/healthz", server)
        finally:
            server.terminate()
            server.wait(timeout=30)
    # then: its access line is written at INFO and not at WARNING
    assert answer.status_code == 200
    access_lines = [line for line in log.read_text().splitlines() if '"tradeloom.access"' in line]
    assert any(answer.headers["x-request-id"] in line for line in access_lines) is access_logged


def _first_answer(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 120  # a bound for a loaded machine; gunicorn boots in a few seconds
    while server.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            return httpx.get(url, timeout=5)
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")
