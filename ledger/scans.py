"""Scans of traceability labels: a counter, the first scan, and the rules that flag a copied label.

A genuine label is scanned a few times, by few parties: the warehouse, the installer, the final owner.
A label copied onto fakes is scanned from many places, and keeps being scanned after the genuine item
reached its final owner. The rules below look for exactly that, on coarse data only: a scan stores
its time, the client's network truncated to /24 (IPv4) or /48 (IPv6) and the browser's preferred
language, never a full address, a user agent or a cookie (docs/traceability-page.md, "Privacy").
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

IPV4_PREFIX = 24
IPV6_PREFIX = 48
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z]{2}|-[0-9]{3})?")


class ScanWarning(StrEnum):
    """Why a label's scan pattern looks like a copied label (stable codes; the page translates them)."""

    MANY_NETWORKS = "many_networks"
    SCANNED_AFTER_HANDOVER = "scanned_after_handover"


@dataclass(frozen=True)
class ScanRules:
    """Thresholds of the anti-counterfeit rules.

    ``MANY_NETWORKS``: at least ``networks_in_window`` different networks scanned the label within
    ``window``. ``SCANNED_AFTER_HANDOVER``: after the item was received or sold, at least
    ``networks_after_handover`` different networks scanned it (the owner and one more are normal).
    """

    window: timedelta = timedelta(hours=24)
    networks_in_window: int = 5
    networks_after_handover: int = 3


DEFAULT_RULES = ScanRules()


@dataclass(frozen=True)
class ScanSummary:
    """The aggregate of one identifier's scans (the app can read nothing finer)."""

    scan_count: int
    first_scanned_at: datetime | None
    first_network: str | None
    first_language: str | None
    recent_networks: int
    networks_after_handover: int


def scan_warnings(summary: ScanSummary, rules: ScanRules = DEFAULT_RULES) -> list[ScanWarning]:
    """The rules that the scans of one label break, in a stable order."""
    warnings = []
    if summary.recent_networks >= rules.networks_in_window:
        warnings.append(ScanWarning.MANY_NETWORKS)
    if summary.networks_after_handover >= rules.networks_after_handover:
        warnings.append(ScanWarning.SCANNED_AFTER_HANDOVER)
    return warnings


def coarse_network(client_ip: str | None) -> str | None:
    """The client's network: IPv4 truncated to /24, IPv6 to /48; None if there is no usable address."""
    if not client_ip:
        return None
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def coarse_language(accept_language: str | None) -> str | None:
    """The browser's first preferred language tag, e.g. ``zh-CN`` (language and region only)."""
    first = (accept_language or "").split(",")[0].split(";")[0].strip()
    return first if _LANGUAGE_TAG.fullmatch(first) else None


async def record_scan(
    session: AsyncSession, *, identifier: str, client_ip: str | None, accept_language: str | None
) -> None:
    """Count one view of the label's page, keeping only the coarse network and language."""
    await session.execute(
        text("SELECT tl_record_trace_scan(:identifier, CAST(:network AS cidr), :language)"),
        {"identifier": identifier, "network": coarse_network(client_ip),
         "language": coarse_language(accept_language)},
    )


async def scan_summary(
    session: AsyncSession, *, identifier: str, now: datetime, handed_over_at: datetime | None,
    rules: ScanRules = DEFAULT_RULES,
) -> ScanSummary:
    """The identifier's scans so far, with the counts the rules need as of ``now``."""
    row = (await session.execute(
        text("SELECT * FROM tl_trace_scan_summary(:identifier, :recent_since, :handed_over_at)"),
        {"identifier": identifier, "recent_since": now - rules.window, "handed_over_at": handed_over_at},
    )).one()
    return ScanSummary(
        scan_count=row.scan_count, first_scanned_at=row.first_scanned_at, first_network=row.first_network,
        first_language=row.first_language, recent_networks=row.recent_networks,
        networks_after_handover=row.networks_after_handover,
    )
