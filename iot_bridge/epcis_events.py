"""IoT facts as EPCIS 2.0 events, captured through the ledger's public service (which writes the evidence)."""

import datetime as dt
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.epcis import service as epcis
from tradeloom.audit import Actor

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


async def capture_event(session: AsyncSession, actor: Actor, event: dict[str, Any], when: dt.datetime) -> None:
    """One event in an EPCISDocument; a repeated eventID is a duplicate for the ledger, not an error."""
    document = {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": when.isoformat(), "epcisBody": {"eventList": [event]}}
    await epcis.capture(session, actor=actor, body=json.dumps(document).encode())
