"""The duplicate review queue: pairs of materials that may be one, waiting for a decision."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.naming import conv

from tradeloom.db import Base, CreatedAtMixin, IdMixin, utcnow


class MaterialDuplicateCandidate(IdMixin, CreatedAtMixin, Base):
    """Two materials of one class that score as likely duplicates; ``first_material_id`` < ``second_material_id``.

    The owners of both materials are copied here so that row-level security can let either owner decide.
    """

    __tablename__ = "material_duplicate_candidates"
    __table_args__ = (
        UniqueConstraint("first_material_id", "second_material_id", name=conv("uq_material_duplicate_candidates_pair")),
        CheckConstraint("first_material_id < second_material_id", name="ordered_pair"),
        Index("ix_material_duplicate_candidates_status_score", "status", "score"),
    )

    first_material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    second_material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"), index=True)
    first_owner_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    second_owner_org_id: Mapped[uuid.UUID] = mapped_column(index=True)
    class_code: Mapped[str] = mapped_column(String(8))
    score: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    parts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # names, attributes, base_unit, conflicts
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, merged, dismissed
    reviewed_by_org_id: Mapped[uuid.UUID | None]
    reviewed_by_user_id: Mapped[uuid.UUID | None]
    reviewed_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
