"""EDI trading partners of an organization, the interchanges exchanged with them, and outbound numbering.

An interchange's control reference (UNB 0020) is unique per partner and direction: the same interchange
sent twice is refused by the database itself, not by a check that a concurrent upload could slip past.
"""

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin


class EdiPartner(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """A system that exchanges EDIFACT with the organization (usually its own ERP), and how."""

    __tablename__ = "edi_partners"
    __table_args__ = (UniqueConstraint("org_id", "partner_id", "partner_qualifier"),)

    name: Mapped[str] = mapped_column(String(120))
    partner_id: Mapped[str] = mapped_column(String(35))  # UNB sender id of its interchanges (0004)
    partner_qualifier: Mapped[str] = mapped_column(String(4))  # 0007, e.g. 14 (GLN) or ZZZ
    our_id: Mapped[str] = mapped_column(String(35))  # UNB recipient id we answer as (0010)
    our_qualifier: Mapped[str] = mapped_column(String(4))
    syntax_version: Mapped[str] = mapped_column(String(8))  # D96A or D01B: the directory of outbound messages
    messages: Mapped[list[str]] = mapped_column(ARRAY(String(8)))  # ORDERS, ORDRSP, DESADV, INVOIC
    delivery_site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"))  # when no NAD+DP
    is_active: Mapped[bool] = mapped_column(default=True)
    last_outbound_reference: Mapped[int] = mapped_column(default=0)  # UNB 0020 of the last interchange we sent


class EdiInterchange(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """One interchange received or sent, kept verbatim, with what became of it."""

    __tablename__ = "edi_interchanges"
    __table_args__ = (
        UniqueConstraint("partner_id", "direction", "control_reference"),
        Index("ix_edi_interchanges_org_created", "org_id", "created_at"),
        # one message of a kind per document (order, shipment, invoice), even from two concurrent sends
        Index("ux_edi_interchanges_document_message", "source_document_id", "message_types", unique=True,
              postgresql_where=text("source_document_id IS NOT NULL")),
    )

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("edi_partners.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    control_reference: Mapped[str] = mapped_column(String(14))
    message_types: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    status: Mapped[str] = mapped_column(String(12))  # accepted | rejected (in); ready | downloaded (out)
    detail: Mapped[str | None] = mapped_column(String(1000))  # why a message was rejected
    source_order_id: Mapped[uuid.UUID | None]  # outbound: the order the message is about
    source_document_id: Mapped[uuid.UUID | None]  # outbound: the order, shipment or invoice it is written from
    filename: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    downloaded_at: Mapped[dt.datetime | None]


class EdiOrder(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A purchase order placed from an inbound ORDERS message: the partner's order number is taken once."""

    __tablename__ = "edi_orders"
    __table_args__ = (UniqueConstraint("partner_id", "document_number"),)

    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("edi_partners.id"))
    interchange_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("edi_interchanges.id"))
    message_reference: Mapped[str] = mapped_column(String(14))
    document_number: Mapped[str] = mapped_column(String(35))  # BGM 1004, the buyer's order number
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"), unique=True)


class Gs1CompanyPrefix(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A supplier's GS1 company prefix (licensed by GS1, e.g. GS1 China's 690–699 numbers) and the last SSCC
    serial reference allocated under it."""

    __tablename__ = "gs1_company_prefixes"
    __table_args__ = (UniqueConstraint("org_id"), UniqueConstraint("company_prefix"))

    company_prefix: Mapped[str] = mapped_column(String(12))
    last_serial_reference: Mapped[int] = mapped_column(BigInteger, default=0)


class ShipmentSscc(IdMixin, CreatedAtMixin, Base):
    """The SSCC-18 of one parcel or pallet of a shipment: allocated once, seen by both parties."""

    __tablename__ = "shipment_ssccs"

    package_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment_packages.id", ondelete="CASCADE"),
                                                  unique=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    source: Mapped[str] = mapped_column(String(8))  # company (the supplier's prefix) | platform (the fallback)
