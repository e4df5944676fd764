"""The public traceability page over HTTP: item and events, bundle downloads, scans, friendly 404s."""

from __future__ import annotations

from dataclasses import replace

from httpx import AsyncClient

from ledger.trace_view import uninstall_trace_sources
from ledger.verify import verify_bundle
from tests.ledger.trace_log import MemoryTraceSources, add_pump, trace_sources  # noqa: F401 - fixture

PUMP = "20.500.12345/TL-PUMP-00000001"
ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


async def test_the_page_shows_the_item_and_its_events_in_order(
    client: AsyncClient, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    # given a pump with five recorded steps
    add_pump(trace_sources, PUMP)
    # when anyone opens its page, without signing in
    response = await client.get(f"/t/{PUMP}", headers=ENGLISH)
    # then it shows product, maker, batch and serial, and every step with its download link
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    for fact in ("Centrifugal pump CP-80", "浙江精工泵业有限公司", "B2026-11-02", "00000001", "CP-80-316L"):
        assert fact in html
    positions = [html.index(step) for step in ("CNC machining", "Assembly", "Hydrostatic", "Shipped", "GR-77")]
    assert positions == sorted(positions)
    for number in range(1, 6):
        assert f'href="/t/{PUMP}/bundles/ev{number}.json"' in html
    assert html.count('data-bundle="') == 5


async def test_the_page_speaks_chinese_by_default_for_chinese_browsers(
    client: AsyncClient, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP)
    response = await client.get(f"/t/{PUMP}", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "制造商" in response.text
    assert "下载证据包" in response.text


async def test_each_view_counts_as_a_scan(client: AsyncClient, trace_sources: MemoryTraceSources) -> None:  # noqa: F811
    add_pump(trace_sources, PUMP)
    await client.get(f"/t/{PUMP}", headers=ENGLISH)
    response = await client.get(f"/t/{PUMP}", headers=ENGLISH)
    assert '<dd class="scan-count">2</dd>' in response.text


async def test_a_downloaded_bundle_verifies_offline(client: AsyncClient, trace_sources: MemoryTraceSources) -> None:  # noqa: F811
    add_pump(trace_sources, PUMP)
    response = await client.get(f"/t/{PUMP}/bundles/ev3.json")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="evidence-ev3.json"'
    report = verify_bundle(response.content, pinned_key=trace_sources.log.log_key)
    assert report.ok


async def test_unknown_identifiers_get_a_friendly_page_in_the_visitors_language(
    client: AsyncClient, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP)
    for path in ("/t/20.500.12345/NOPE", f"/t/{'x' * 600}", f"/t/{PUMP}/bundles/ev99.json", "/t/nope/bundles/ev1.json"):
        response = await client.get(path, headers={"Accept-Language": "zh-CN"})
        assert response.status_code == 404, path
        assert "未知的标识" in response.text
        assert response.headers["content-type"].startswith("text/html")
    english = await client.get("/t/NOPE", headers=ENGLISH)
    assert "Unknown identifier" in english.text


async def test_without_installed_sources_every_identifier_is_unknown(client: AsyncClient) -> None:
    uninstall_trace_sources()
    response = await client.get(f"/t/{PUMP}", headers=ENGLISH)
    assert response.status_code == 404


async def test_an_event_not_yet_sealed_says_so_and_offers_no_bundle(
    client: AsyncClient, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP)
    trace_sources.events[PUMP][-1] = replace(trace_sources.events[PUMP][-1], evidence_entry_id=None)
    response = await client.get(f"/t/{PUMP}", headers=ENGLISH)
    assert "Not yet sealed in the evidence log" in response.text
    assert response.text.count('data-bundle="') == 4
    assert (await client.get(f"/t/{PUMP}/bundles/ev5.json")).status_code == 404


async def test_download_links_quote_unusual_identifiers(
    client: AsyncClient, trace_sources: MemoryTraceSources  # noqa: F811
) -> None:
    add_pump(trace_sources, "LOT 7/SN#0001")
    page = await client.get("/t/LOT%207/SN%230001", headers=ENGLISH)
    assert 'href="/t/LOT%207/SN%230001/bundles/ev1.json"' in page.text
    assert (await client.get("/t/LOT%207/SN%230001/bundles/ev1.json")).status_code == 200
