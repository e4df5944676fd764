"""The traceability page in Chromium: every event checked by the browser verifier, scans and warnings, phones."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.bundle import EvidenceBundle
from ledger.models import TraceScan
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.ledger.trace_log import OTHER_SIGNER, MemoryTraceSources, add_pump, trace_sources  # noqa: F401
from tradeloom.db import make_sessionmaker

pytestmark = pytest.mark.browser

PUMP = "20.500.12345/TL-PUMP-00000042"


@pytest.fixture
async def scans_cleared(engine: AsyncEngine) -> AsyncIterator[None]:
    """Scans are committed by the live server; remove them after the test."""
    yield
    async with engine.begin() as conn:
        await conn.execute(text("TRUNCATE trace_scans"))


async def seed_scans(engine: AsyncEngine, identifier: str, networks: list[str]) -> None:
    """Earlier scans of ``identifier`` from ``networks``, an hour ago."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    async with make_sessionmaker(engine)() as session, session.begin():
        for network in networks:
            await session.execute(insert(TraceScan).values(identifier=identifier, scanned_at=an_hour_ago,
                                                           network=network, language="en-US"))


async def open_verified(tab: Page, url: str) -> None:
    await tab.goto(url)
    await expect(tab.locator(".timeline")).to_have_attribute("data-verified", "done")


def tampered(bundle: EvidenceBundle, **changes: object) -> EvidenceBundle:
    return EvidenceBundle.model_validate(json.loads(bundle.to_json()) | changes)


async def test_every_event_is_verified_in_chinese(
    page: Page, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    # given a pump whose five steps are sealed in the log
    add_pump(trace_sources, PUMP)
    # when a Chinese browser opens its page
    await open_verified(page, f"{live_server}/t/{PUMP}")
    # then every event is marked verified, in Chinese, with its download link
    statuses = page.locator(".event .verification")
    await expect(statuses).to_have_count(5)
    await expect(statuses).to_have_text(["已验证 ✓"] * 5)
    await expect(page.get_by_role("link", name="下载证据包")).to_have_count(5)
    await expect(page.locator("h1")).to_have_text("离心泵 CP-80 / Centrifugal pump CP-80")
    await expect(page.locator(".event-kind").first).to_have_text("生产工序")
    await page.screenshot(path=str(tmp_path / "trace-zh.png"), full_page=True)


async def test_tampered_bundles_fail_naming_the_check(
    page: Page, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
) -> None:
    # given one event whose proof path was edited and one whose checkpoint another key signed
    add_pump(trace_sources, PUMP)
    log = trace_sources.log
    good = log.bundle(1)
    edited_path = [("0" if good.inclusion_proof[0][0] != "0" else "1") + good.inclusion_proof[0][1:],
                   *good.inclusion_proof[1:]]
    trace_sources.replaced_bundles[1] = tampered(good, inclusion_proof=edited_path)
    trace_sources.replaced_bundles[3] = tampered(log.bundle(3), checkpoint=log.checkpoint(OTHER_SIGNER))
    # when the page is opened
    await open_verified(page, f"{live_server}/t/{PUMP}")
    # then those two fail, each naming the failing check; the rest are verified
    await expect(page.locator(".event .verification")).to_have_text(
        ["已验证 ✓", "验证失败：包含证明", "已验证 ✓", "验证失败：检查点签名", "已验证 ✓"]
    )
    await expect(page.locator('.event[data-event-id="ev2"]')).to_have_attribute("data-failed-check", "inclusion_proof")


async def test_the_scan_counter_increases_with_each_view(
    page: Page, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
) -> None:
    add_pump(trace_sources, PUMP)
    await page.goto(f"{live_server}/t/{PUMP}")
    await expect(page.locator(".scan-count")).to_have_text("1")
    await expect(page.locator(".first-scan")).to_contain_text("网络 127.0.0.0/24")
    await page.reload()
    await expect(page.locator(".scan-count")).to_have_text("2")
    await expect(page.get_by_role("alert")).to_have_count(0)


async def test_many_networks_within_a_day_raise_a_warning(
    page: Page, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
    engine: AsyncEngine,
) -> None:
    # given a shipped (not yet received) pump scanned from four networks in the last hour
    add_pump(trace_sources, PUMP, received=False)
    await seed_scans(engine, PUMP, ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "100.64.1.0/24"])
    # when a fifth network scans it
    await page.goto(f"{live_server}/t/{PUMP}")
    # then the page warns of a copied label
    await expect(page.locator(".scan-count")).to_have_text("5")
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(page.locator("[data-warning=many_networks]")).to_contain_text("一天内被许多不同网络扫描")


async def test_scans_from_several_networks_after_receipt_raise_a_warning(
    page: Page, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
    engine: AsyncEngine,
) -> None:
    # given a received pump scanned by two networks since, and a page opened from a third
    add_pump(trace_sources, PUMP, received=True)
    await seed_scans(engine, PUMP, ["192.0.2.0/24"])
    await page.goto(f"{live_server}/t/{PUMP}")
    await expect(page.get_by_role("alert")).to_have_count(0)
    await seed_scans(engine, PUMP, ["198.51.100.0/24"])
    # when it is scanned again
    await page.reload()
    # then the after-receipt rule triggers (and only that one)
    await expect(page.get_by_role("alert")).to_have_count(1)
    await expect(page.locator("[data-warning=scanned_after_handover]")).to_contain_text("已交付买方")


async def test_the_page_works_on_a_phone_and_switches_to_english(
    browser: Browser, live_server: str, trace_sources: MemoryTraceSources, scans_cleared: None,  # noqa: F811
    tmp_path: Path,
) -> None:
    add_pump(trace_sources, PUMP)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                        is_mobile=True, has_touch=True, locale="zh-CN")
    phone = await context.new_page()
    try:
        await open_verified(phone, f"{live_server}/t/{PUMP}")
        await expect(phone.locator(".event .verification")).to_have_text(["已验证 ✓"] * 5)
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        await phone.screenshot(path=str(tmp_path / "trace-phone-zh.png"), full_page=True)
        await phone.get_by_role("link", name="English").click()
        await expect(phone.locator(".timeline")).to_have_attribute("data-verified", "done")
        await expect(phone.locator(".event .verification")).to_have_text(["Verified ✓"] * 5)
        await expect(phone.locator(".scan-count")).to_have_text("2")
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        await phone.screenshot(path=str(tmp_path / "trace-phone-en.png"), full_page=True)
        assert (tmp_path / "trace-phone-zh.png").stat().st_size > 20_000
    finally:
        await context.close()
