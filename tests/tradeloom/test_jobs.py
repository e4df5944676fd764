"""Jobs share their process's Redis client: a job does not open a connection of its own."""

import redis

from commerce.supplier_performance.cache import supplier_generation
from commerce.supplier_performance.jobs import bump
from tradeloom.jobs import redis_connection

SUPPLIER = "8a1c7c4e-52a0-4f59-9d5b-0f7fd1bd3c11"


def test_every_job_in_a_process_uses_the_same_connection(redis_url: str, redis_client: redis.Redis) -> None:
    # when: the supplier-scorecard job's work, as it runs once per dispatched batch
    connections = set()
    for _ in range(20):
        client = redis_connection(redis_url)
        bump(client, [{"payload": {"supplier_org_id": SUPPLIER}}])
        connections.add(client.client_id())  # the server's id of the connection the command went over
    # then
    assert redis_client.get(supplier_generation(SUPPLIER)) == b"20"
    assert len(connections) == 1
