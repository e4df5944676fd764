"""Which object of ours a record of another system (ERP, CRM, SRM) stands for."""

import uuid

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin


class ExternalId(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """``(org, source_system, object_type, external_id)`` is unique: their key names one object of ours.

    ``object_type`` is part of the key because ERPs number each object kind on its own (SAP material 4711
    and business partner 4711 are different things).
    """

    __tablename__ = "external_ids"
    __table_args__ = (
        Index("uq_external_ids_key", "org_id", "source_system", "object_type", "external_id", unique=True),
        Index("ix_external_ids_object", "org_id", "object_type", "object_id"),
    )

    source_system: Mapped[str] = mapped_column(String(40))  # e.g. "sap-prod", "kingdee"
    object_type: Mapped[str] = mapped_column(String(32))  # material, offer, price_list, purchase_order, …
    external_id: Mapped[str] = mapped_column(String(120))
    object_id: Mapped[uuid.UUID]
