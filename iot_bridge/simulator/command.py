"""What ``tradeloom simulate-devices`` does: provision the fleet in the registry, then run it."""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select

from iot_bridge.running import until_stopped
from iot_bridge.simulator.fleet import FleetPlan, provision_fleet
from iot_bridge.simulator.runner import Fleet, FleetOptions, FleetStats
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.identity.models import Organization
from tradeloom.identity.roles import OrgKind

log = logging.getLogger(__name__)
_MANUFACTURERS = (OrgKind.SUPPLIER.value, OrgKind.BOTH.value)


async def provision(database_url: str, plan: FleetPlan, org_id: uuid.UUID | None) -> uuid.UUID:
    """Registry rows for the plan (as the owner, like the seeds); the organization defaults to the first
    supplier, whose plants the simulated machines stand in."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            if org_id is None:
                org_id = await session.scalar(select(Organization.id).where(Organization.kind.in_(_MANUFACTURERS))
                                              .order_by(Organization.created_at).limit(1))
                if org_id is None:
                    raise LookupError("no supplier organization: run `tradeloom seed-demo` or pass --org")
            added = await provision_fleet(session, org_id=org_id, plan=plan)
            log.info("simulated fleet provisioned", extra={"devices": len(plan.devices), "added": added})
            return org_id
    finally:
        await engine.dispose()


async def run_fleet(plan: FleetPlan, options: FleetOptions, *, duration: float | None,
                    report: Callable[[FleetStats, float], None], report_every: float = 10.0) -> FleetStats:
    """Run the fleet for ``duration`` seconds (None: until SIGINT/SIGTERM), reporting now and then."""
    fleet = Fleet(plan, options)
    started = time.monotonic()

    async def progress() -> None:
        while True:
            await asyncio.sleep(report_every)
            report(fleet.stats, time.monotonic() - started)

    reporter = asyncio.create_task(progress())
    try:
        await until_stopped(fleet.run(), duration)
    finally:
        reporter.cancel()
    report(fleet.stats, time.monotonic() - started)
    return fleet.stats
