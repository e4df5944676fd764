"""The traceability page on real data: a published identifier, captured EPCIS events, the sequenced log."""

import re
from collections.abc import Iterator

import pytest
from httpx import AsyncClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.sequencer import sequence_waiting
from ledger.signing import log_signer
from ledger.trace_sources import biz_step_kind
from ledger.trace_view import TraceEventKind
from ledger.verify import verify_bundle
from tests.factories import make_member
from tests.ledger.epcis_documents import cutting, document, packing
from tradeloom.db import driver_url, make_sessionmaker
from tradeloom.settings import Settings


@pytest.fixture
def owner_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(driver_url(database_url))
    yield engine
    engine.dispose()


async def test_a_published_part_shows_its_verified_history(
    committed_client: AsyncClient, engine: AsyncEngine, owner_engine: Engine, test_settings: Settings
) -> None:
    # given a manufacturer that published a serialised part and captured how it was made and packed
    async with make_sessionmaker(engine)() as setup, setup.begin():
        maker = await make_member(setup)
    registered = await committed_client.post("/api/v1/identifiers", headers=maker.headers, json={
        "suffix": "PART-778892-1", "gtin": "04012345778892", "serial": "1", "published": True,
        "values": [{"index": 2, "type": "PRODUCT_NAME", "value": "法兰盘 DN50"}],
    })
    assert registered.status_code == 201, registered.text
    handle = registered.json()["handle"]
    captured = await committed_client.post("/api/v1/epcis/capture", headers=maker.headers,
                                           json=document(cutting(), packing()))
    assert captured.status_code in (200, 201, 202), captured.text
    # when the log seals the evidence
    sequence_waiting(owner_engine, log_signer(test_settings), batch_size=100)
    # then anyone sees the part with both steps, each with a bundle that verifies offline
    page = await committed_client.get(f"/t/{handle}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "法兰盘 DN50" in page.text
    bundle_links = sorted(set(re.findall(r'href="(/t/[^"]+/bundles/[^"]+\.json)"', page.text)))
    assert len(bundle_links) == 2
    for link in bundle_links:
        bundle = await committed_client.get(link)
        report = verify_bundle(bundle.content, pinned_key=str(log_signer(test_settings).verifier_key))
        assert report.ok, report


def test_business_steps_in_any_spelling_map_to_the_same_kind() -> None:
    assert biz_step_kind("shipping") == TraceEventKind.SHIPPING
    assert biz_step_kind("urn:epcglobal:cbv:bizstep:receiving") == TraceEventKind.RECEIPT
    assert biz_step_kind("https://ref.gs1.org/cbv/BizStep-inspecting") == TraceEventKind.QUALITY_CHECK
    assert biz_step_kind(None) == TraceEventKind.PRODUCTION
