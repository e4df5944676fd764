"""The ``identifiers`` table: an organization's handles, each optionally a GS1 trade item (GTIN, lot, serial).

Tenant rows under RLS; the public resolvers read published rows only through SECURITY DEFINER functions
(see migration 0004) that return the handle, its values and GS1 key, never anything else of the tenant.
"""

from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin


class Identifier(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    __tablename__ = "identifiers"
    __table_args__ = (Index("ix_identifiers_gs1", "gtin", "lot", "serial"),)

    handle: Mapped[str] = mapped_column(String(255), unique=True)
    suffix: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(200))
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(20))
    handle_values: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    published: Mapped[bool] = mapped_column(default=False)
