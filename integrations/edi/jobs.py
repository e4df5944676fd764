"""RQ entry points: order, shipment, invoice and note events send the EDI messages partners agreed to (ORDRSP,
DESADV with SSCCs allocated by the supplier first, INVOIC)."""

import asyncio
import uuid
from typing import Any

from integrations.edi.outbound import MESSAGE_FOR_TOPIC, send_for_event
from integrations.edi.sscc import allocate_ssccs
from tradeloom.db import make_engine, make_sessionmaker, tenant_transaction
from tradeloom.jobs import require_url
from tradeloom.outbox.subscriptions import subscribe
from tradeloom.settings import get_settings

SEND_JOB = "integrations.edi.jobs.send_order_message"


def subscribe_jobs() -> None:
    """Called by the composition root: the topics that send an EDI message."""
    for topic in MESSAGE_FOR_TOPIC:
        subscribe(topic, SEND_JOB)


async def _send(event: dict[str, Any]) -> str | None:
    settings = get_settings()
    engine = make_engine(require_url(settings.database_url, "DATABASE_URL"), pool_size=1, max_overflow=0)
    try:
        buyer_org_id = uuid.UUID(str(event["payload"]["buyer_org_id"]))
        sessionmaker = make_sessionmaker(engine)
        if event["topic"] == "shipment.dispatched":  # the supplier numbers its parcels and pallets first
            async with tenant_transaction(sessionmaker, org_id=uuid.UUID(str(event["payload"]["supplier_org_id"]))
                                          ) as session:
                await allocate_ssccs(session, shipment_id=uuid.UUID(str(event["payload"]["shipment_id"])),
                                     platform_prefix=settings.platform_gs1_prefix)
        async with tenant_transaction(sessionmaker, org_id=buyer_org_id) as session:
            sent = await send_for_event(session, topic=event["topic"], payload=event["payload"])
            return str(sent.id) if sent else None
    finally:
        await engine.dispose()


def send_order_message(event: dict[str, Any]) -> str | None:
    """Send the message an event calls for, once (idempotent); returns the interchange id."""
    return asyncio.run(_send(event))
