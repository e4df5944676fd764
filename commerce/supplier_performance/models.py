"""Buyer reviews of suppliers: 1–5 stars and a comment, one per order, written by the order's buyer only.

Both parties read a review (a two-party RLS policy, migration 0140); only the buyer inserts it, nobody edits it.
"""

import uuid

from sqlalchemy import CheckConstraint, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin


class SupplierReview(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "supplier_reviews"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), unique=True)
    buyer_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(String(2000), default="")
    author_user_id: Mapped[uuid.UUID | None]
