"""What the command line wires from the domains: which jobs consume which outbox topics, and the demo world.

Part of the composition root with ``tradeloom.app`` and ``tradeloom.cli``: it may import every package.
"""

import click

from catalog.governance import wiring as catalog_governance
from catalog.seed import seed_catalog
from commerce.contracts.seed import seed_contracts
from commerce.logistics import jobs as logistics_jobs
from commerce.logistics.seed import seed_logistics
from commerce.orders import seed as order_seed
from commerce.rfq.seed import seed_rfqs
from commerce.settlement.seed import seed_settlement
from commerce.supplier_performance import jobs as supplier_performance_jobs
from commerce.supplier_performance.seed import seed_reviews
from integrations.bulk import service as bulk_service
from integrations.connectors import jobs as connector_jobs
from integrations.edi import jobs as edi_jobs
from integrations.webhooks import service as webhook_service
from iot_bridge.seed import seed_devices
from ledger.fabric import jobs as fabric_jobs
from ledger.identifiers import jobs as identifier_jobs
from ledger.sequencer import CHECKPOINT_SIGNED
from ledger.service import record_evidence
from tradeloom import seed
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import Settings


def subscribe_consumers(settings: Settings) -> None:
    """Which jobs consume which outbox topics (the dispatcher in this process sends them)."""
    catalog_governance.install(record_evidence=record_evidence)
    subscribe("*", "integrations.webhooks.jobs.fan_out_batch", batch=True)
    logistics_jobs.subscribe_jobs()
    subscribe(webhook_service.DELIVERY_REQUESTED, "integrations.webhooks.jobs.deliver_requested")
    subscribe(bulk_service.BULK_REQUESTED, "integrations.bulk.jobs.run_bulk_job", queue="low")
    connector_jobs.subscribe_jobs()
    edi_jobs.subscribe_jobs()
    supplier_performance_jobs.subscribe_jobs()
    if settings.idis_node_url:
        subscribe(identifier_jobs.TOPICS, identifier_jobs.SYNC_JOB)
    if settings.ledger_anchor_backend != "none":
        subscribe(CHECKPOINT_SIGNED, f"{fabric_jobs.__name__}.{fabric_jobs.anchor_checkpoint.__name__}")


async def seed_demo_world(database_url: str, secret: str) -> seed.DemoWorld:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            world = await seed.seed_world(session)
            await seed_catalog(session, world)
            await order_seed.seed_orders(session, world)
            await seed_logistics(session, world)
            await seed_rfqs(session, world)
            await seed_contracts(session, world, secret=secret)
            await seed_settlement(session, world)
            await seed_reviews(session, world)
            await seed_devices(session, world)
            return world
    finally:
        await engine.dispose()


def print_demo_logins(world: seed.DemoWorld) -> None:
    click.echo(f"\nDemo logins (password for all: {seed.DEMO_PASSWORD}):")
    for login in world.logins():
        click.echo(f"  {login}")
    click.echo("")
