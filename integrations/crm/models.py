"""A supplier's CRM customers and their contacts, as synced from its CRM (Odoo, SAP business partners …).

Each row is one of their records (``source_system`` = the connector's name, ``external_id`` = their key,
also recorded in ``external_ids``). A customer that is a platform organization (same USCC/tax id, else the
same name) is linked to it (``buyer_org_id``); the others are kept as CRM customer records only.
"""

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, utcnow


class CrmCustomer(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A customer company in the organization's CRM."""

    __tablename__ = "crm_customers"
    __table_args__ = (Index("uq_crm_customers_key", "org_id", "source_system", "external_id", unique=True),)

    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(40))  # 统一社会信用代码 (USCC) or another tax number
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(60))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    buyer_org_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    matched_by: Mapped[str | None] = mapped_column(String(8))  # tax_id, name (how buyer_org_id was found)
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CrmContact(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A person at a customer (or not yet tied to one) in the organization's CRM."""

    __tablename__ = "crm_contacts"
    __table_args__ = (Index("uq_crm_contacts_key", "org_id", "source_system", "external_id", unique=True),
                      Index("ix_crm_contacts_customer", "customer_id"))

    source_system: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("crm_customers.id", ondelete="SET NULL"))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str | None] = mapped_column(String(120))  # job title / function at the customer
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
