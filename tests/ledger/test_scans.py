"""The scan counter: coarse data only, the anti-counterfeit rules, and the app role's narrow access."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import TraceScan
from ledger.scans import (
    ScanRules,
    ScanSummary,
    ScanWarning,
    coarse_language,
    coarse_network,
    record_scan,
    scan_summary,
    scan_warnings,
)
from tradeloom.db import apply_tenant

IDENTIFIER = "20.500.12345/TL-SCAN-0001"


def summary(*, recent_networks: int = 1, networks_after_handover: int = 0) -> ScanSummary:
    return ScanSummary(scan_count=9, first_scanned_at=None, first_network=None, first_language=None,
                       recent_networks=recent_networks, networks_after_handover=networks_after_handover)


class TestCoarseData:
    @pytest.mark.parametrize(("client_ip", "network"), [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("not an address", None),
        ("", None),
        (None, None),
    ])
    def test_network_is_truncated(self, client_ip: str | None, network: str | None) -> None:
        assert coarse_network(client_ip) == network

    @pytest.mark.parametrize(("header", "language"), [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en", "en"),
        ("es-419", "es-419"),
        ("*", None),
        ("x" * 300, None),
        (None, None),
    ])
    def test_language_is_the_first_preference_only(self, header: str | None, language: str | None) -> None:
        assert coarse_language(header) == language


class TestScanWarnings:
    def test_a_few_networks_are_normal(self) -> None:
        assert scan_warnings(summary(recent_networks=4, networks_after_handover=2)) == []

    def test_five_networks_within_the_window_are_suspicious(self) -> None:
        assert scan_warnings(summary(recent_networks=5)) == [ScanWarning.MANY_NETWORKS]

    def test_three_networks_after_handover_are_suspicious(self) -> None:
        assert scan_warnings(summary(networks_after_handover=3)) == [ScanWarning.SCANNED_AFTER_HANDOVER]

    def test_both_rules_can_trigger_and_thresholds_are_configurable(self) -> None:
        rules = ScanRules(networks_in_window=2, networks_after_handover=1)
        warnings = scan_warnings(summary(recent_networks=2, networks_after_handover=1), rules)
        assert warnings == [ScanWarning.MANY_NETWORKS, ScanWarning.SCANNED_AFTER_HANDOVER]


async def add_scan(session: AsyncSession, *, at: datetime, network: str, language: str = "zh-CN") -> None:
    await session.execute(insert(TraceScan).values(identifier=IDENTIFIER, scanned_at=at, network=network,
                                                   language=language))


class TestScanStore:
    async def test_the_app_role_records_and_summarizes_scans(self, session: AsyncSession) -> None:
        # given two earlier scans (written as the owner, back-dated)
        now = datetime.now(UTC)
        await add_scan(session, at=now - timedelta(days=3), network="192.0.2.0/24", language="de-DE")
        await add_scan(session, at=now - timedelta(hours=2), network="198.51.100.0/24")
        # when the app role records a scan and reads the summary
        await apply_tenant(session, org_id=None)
        await record_scan(session, identifier=IDENTIFIER, client_ip="203.0.113.77", accept_language="en-GB,en")
        result = await scan_summary(session, identifier=IDENTIFIER, now=now + timedelta(seconds=1),
                                    handed_over_at=now - timedelta(days=1))
        # then it counts all three, names the first, and counts networks per rule
        assert result == ScanSummary(
            scan_count=3, first_scanned_at=now - timedelta(days=3), first_network="192.0.2.0/24",
            first_language="de-DE", recent_networks=2, networks_after_handover=2,
        )

    async def test_an_unscanned_identifier_has_an_empty_summary(self, session: AsyncSession) -> None:
        await apply_tenant(session, org_id=None)
        result = await scan_summary(session, identifier="unknown", now=datetime.now(UTC), handed_over_at=None)
        assert result == ScanSummary(0, None, None, None, 0, 0)

    async def test_the_stored_row_holds_no_full_address(self, session: AsyncSession) -> None:
        await apply_tenant(session, org_id=None)
        await record_scan(session, identifier=IDENTIFIER, client_ip="203.0.113.77", accept_language="zh-CN")
        await session.execute(text("RESET ROLE"))
        row = (await session.execute(text("SELECT network::text, language FROM trace_scans"))).one()
        assert tuple(row) == ("203.0.113.0/24", "zh-CN")

    @pytest.mark.parametrize("statement", [
        "SELECT count(*) FROM trace_scans",
        "INSERT INTO trace_scans (identifier) VALUES ('x')",
        "DELETE FROM trace_scans",
    ])
    async def test_the_app_role_cannot_touch_the_table_directly(self, session: AsyncSession, statement: str) -> None:
        await apply_tenant(session, org_id=None)
        with pytest.raises(DBAPIError, match="permission denied"):
            async with session.begin_nested():
                await session.execute(text(statement))
