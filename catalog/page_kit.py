"""Helpers shared by the catalogue's pages: the page language, organization names, plain numbers."""

from decimal import Decimal

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.identity.service import list_organizations
from tradeloom.web.i18n import request_locale


def plain(value: Decimal) -> str:
    """A quantity or price without trailing zeros or an exponent (10.50 → 10.5, 10 → 10)."""
    return f"{value.normalize():f}"


def chinese(request: Request) -> bool:
    return request_locale(request, request.app.state.settings.default_locale) == "zh_CN"


async def org_names(request: Request, session: AsyncSession) -> dict[str, str]:
    """Organization names in the page's language, by id as text (facet values are text)."""
    zh = chinese(request)
    return {str(org.id): org.name_zh if zh else org.name_en for org in await list_organizations(session)}
