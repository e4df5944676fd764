"""Contract tables, visible to both parties: the buyer (``org_id``) and the supplier (``supplier_org_id``).

``contract_terms`` keeps every version of the terms (append-only); ``contract_items`` are the items in force
with what was drawn against their caps; ``contract_signatures`` the parties' signatures of a terms version.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, LargeBinary, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin, utcnow

QUANTITY = Numeric(18, 6)


class Contract(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    __tablename__ = "contracts"

    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # spot | framework
    title: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    terms_version: Mapped[int] = mapped_column(default=1)  # the latest version (maybe awaiting signatures)
    signed_terms_version: Mapped[int | None]  # the version in force; None until both parties signed
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    value_cap: Mapped[Decimal | None]
    value_drawn: Mapped[Decimal] = mapped_column(default=Decimal(0))
    price_list_id: Mapped[uuid.UUID | None]
    rfq_id: Mapped[uuid.UUID | None]


class ContractTerms(CreatedAtMixin, TenantMixin, Base):
    """One version of the terms: the canonical document and its SHA-256 (what the parties sign)."""

    __tablename__ = "contract_terms"

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"), primary_key=True)
    terms_version: Mapped[int] = mapped_column(primary_key=True)
    supplier_org_id: Mapped[uuid.UUID]
    document: Mapped[dict[str, Any]]
    document_hash: Mapped[str] = mapped_column(String(64))
    change: Mapped[str] = mapped_column(String(300))  # "original" or the amendment's reason


class ContractItem(IdMixin, TenantMixin, Base):
    """A material under the contract at a price per base unit, with optional caps and what was drawn."""

    __tablename__ = "contract_items"
    __table_args__ = (UniqueConstraint("contract_id", "material_id"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"), index=True)
    supplier_org_id: Mapped[uuid.UUID]
    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id"))
    unit: Mapped[str] = mapped_column(String(3))
    unit_price: Mapped[Decimal]
    quantity_cap: Mapped[Decimal | None] = mapped_column(QUANTITY)
    value_cap: Mapped[Decimal | None]
    quantity_drawn: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal(0))
    value_drawn: Mapped[Decimal] = mapped_column(default=Decimal(0))
    in_force: Mapped[bool] = mapped_column(default=True)  # false once an amendment dropped the item


class ContractSignature(IdMixin, TenantMixin, Base):
    """A party's Ed25519 signature of one terms version's hash; ``org_id`` is the signing party."""

    __tablename__ = "contract_signatures"
    __table_args__ = (UniqueConstraint("contract_id", "terms_version", "org_id"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"), index=True)
    terms_version: Mapped[int]
    buyer_org_id: Mapped[uuid.UUID]
    supplier_org_id: Mapped[uuid.UUID]
    signer_user_id: Mapped[uuid.UUID | None]
    document_hash: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    evidence_entry_id: Mapped[int] = mapped_column(BigInteger)


class SigningKey(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """An organization's Ed25519 key: kept by the platform (private key encrypted) or uploaded (public only)."""

    __tablename__ = "signing_keys"

    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    encrypted_private_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    custody: Mapped[str] = mapped_column(String(16))  # platform | uploaded
    revoked_at: Mapped[dt.datetime | None]


class CallOff(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """An order drawn against a framework agreement; ``org_id`` is the buyer."""

    __tablename__ = "call_offs"

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"), index=True)
    supplier_org_id: Mapped[uuid.UUID]
    delivery_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    amount: Mapped[Decimal]
    lines: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)  # [{material_id, quantity, unit_price}]
    order_reference: Mapped[str | None] = mapped_column(String(100))
