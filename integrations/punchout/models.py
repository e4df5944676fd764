"""PunchOut: the credentials a buyer's procurement system logs in with, its shopping sessions, its orders.

A credential links the buyer organization (``org_id``) to one supplier whose catalogue and contract prices
its users shop, as Ariba, Coupa and Oracle punch out to one supplier site at a time.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin, TenantMixin, VersionedMixin


class PunchOutCredential(IdMixin, CreatedAtMixin, TenantMixin, VersionedMixin, Base):
    """The cXML identity (``From``/``Sender`` Credential) and the hash of its shared secret."""

    __tablename__ = "punchout_credentials"
    __table_args__ = (UniqueConstraint("domain", "identity"),)

    name: Mapped[str] = mapped_column(String(120))
    domain: Mapped[str] = mapped_column(String(40))  # e.g. NetworkID, DUNS
    identity: Mapped[str] = mapped_column(String(80))
    secret_hash: Mapped[str] = mapped_column(String(200))
    supplier_org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    delivery_site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_used_at: Mapped[dt.datetime | None]


class PunchOutSession(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """One shopping trip: opened by a setup request, entered once by its URL, ended by returning the cart."""

    __tablename__ = "punchout_sessions"

    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("punchout_credentials.id"))
    entry_token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # the one-time URL's token
    browser_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # cookie after entry
    buyer_cookie: Mapped[str] = mapped_column(String(200))
    browser_form_post_url: Mapped[str] = mapped_column(String(2000))
    user_email: Mapped[str | None] = mapped_column(String(254))
    cart: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    status: Mapped[str] = mapped_column(String(12))  # open | entered | returned
    expires_at: Mapped[dt.datetime]


class PunchOutOrder(IdMixin, CreatedAtMixin, TenantMixin, Base):
    """A cXML OrderRequest taken: one per payloadID and one per procurement orderID, so resends are no-ops."""

    __tablename__ = "punchout_orders"
    __table_args__ = (UniqueConstraint("org_id", "payload_id"), UniqueConstraint("org_id", "order_ref"))

    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("punchout_credentials.id"))
    payload_id: Mapped[str] = mapped_column(String(250))
    order_ref: Mapped[str] = mapped_column(String(100))  # OrderRequestHeader orderID
    purchase_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_orders.id"))
    total: Mapped[Decimal]
    request_body: Mapped[str] = mapped_column(Text)
