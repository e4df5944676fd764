"""Database URLs as the app, libpq tools and the benches use them."""

import pytest

from tradeloom.db import driver_url, libpq_url, with_database


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://postgres@127.0.0.1:5432/tl_bench"),
    ("postgresql+psycopg://app:p%40ss@db:5461/tradeloom", "postgresql://app:p%40ss@db:5461/tl_bench"),
    ("postgresql://postgres@/postgres?host=/var/run/postgresql", "postgresql://postgres@/tl_bench?host=/var/run/postgresql"),
])
def test_another_database_on_the_same_server_keeps_host_credentials_and_socket(url: str, expected: str) -> None:
    assert with_database(url, "tl_bench") == expected


def test_the_driver_url_and_the_libpq_url_are_the_same_address() -> None:
    url = "postgres://postgres@/postgres?host=/var/run/postgresql"
    assert driver_url(url) == "postgresql+psycopg://postgres@/postgres?host=/var/run/postgresql"
    assert libpq_url(driver_url(url)) == "postgresql://postgres@/postgres?host=/var/run/postgresql"
