"""Documents an ERP sends us instead of being pulled: SAP IDocs (ORDERS05) posted to a connector.

The connector's mapping pulls whose ``source`` is ``{idoc: ORDERS05}`` map each IDoc; what maps goes to a
bulk job (idempotent by external id, so SAP resending an IDoc creates nothing twice), what does not is
queued in the connector's error queue.
"""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.service.queries import fx_rates_to_cny
from integrations.bulk.models import BulkJob
from integrations.bulk.service import request_bulk
from integrations.connectors.idoc import idoc_records
from integrations.connectors.mapping import Converter, parse_mapping
from integrations.connectors.service import get_connector
from integrations.connectors.sync import IDOC_SOURCE, Failure, PullResult, map_into, queue_failures
from tradeloom.audit import Actor
from tradeloom.errors import Invalid


async def receive_idoc(session: AsyncSession, *, actor: Actor, connector_id: uuid.UUID, xml: bytes) -> BulkJob:
    """Map the IDocs in ``xml`` and queue them as one bulk job; 422 when none of them maps."""
    connector = await get_connector(session, connector_id=connector_id)
    pulls = [pull for pull in parse_mapping(connector.mapping_yaml).pulls if IDOC_SOURCE in pull.source]
    if len(pulls) != 1:
        raise Invalid("The connector's mapping needs exactly one pull with source {idoc: ORDERS05}.",
                      code="idoc_mapping_missing")
    pull, converter = pulls[0], Converter(await fx_rates_to_cny(session))
    result, failures = PullResult(pull.kind), list[Failure]()
    for idoc in idoc_records(xml):
        map_into(result, pull, idoc, converter, failures)
    if not result.records:
        raise Invalid("None of the IDocs could be mapped.", code="idoc_unmappable",
                      errors=[{"pointer": f"/{f.external_id or ''}", "detail": f.message} for f in failures])
    await queue_failures(session, connector, failures)
    return await request_bulk(session, actor=actor, kind=pull.kind, source_system=connector.name,
                              records=result.records)
