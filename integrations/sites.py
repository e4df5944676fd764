"""The buyer's delivery sites for the integration settings' pick lists."""

from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.sites.models import Site
from tradeloom.sites.service import list_sites

PICK_LIST_SIZE = 200


async def active_sites(session: AsyncSession) -> list[Site]:
    """The organization's active sites by code (the first 200: a pick list, not a report)."""
    sites, _ = await list_sites(session, limit=PICK_LIST_SIZE, cursor=None, active_only=True)
    return sites
