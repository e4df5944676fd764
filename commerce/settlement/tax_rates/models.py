"""Tax rates and material-class default rates (migration 0112): platform data, not any tenant's.

Everyone reads them; only the platform operator (``platform.manage``) changes them, through the service.
"""

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, CreatedAtMixin, IdMixin

RATE = Numeric(7, 6)  # a fraction: 0.13 for 13 %


class TaxRateRow(IdMixin, CreatedAtMixin, Base):
    """One rate by code (``13``, ``9``, ``exempt``, ``5`` …) in a country for a validity period."""

    __tablename__ = "tax_rates"
    __table_args__ = (UniqueConstraint("country", "code", "valid_from"),
                      CheckConstraint("rate >= 0 AND rate < 1", name="rate_fraction"),
                      CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"))

    country: Mapped[str] = mapped_column(String(2))
    code: Mapped[str] = mapped_column(String(8))
    rate: Mapped[Decimal] = mapped_column(RATE)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class ClassTaxRate(IdMixin, CreatedAtMixin, Base):
    """The rate a material class (and the classes under it) is taxed at by default in a country."""

    __tablename__ = "material_class_tax_rates"
    __table_args__ = (UniqueConstraint("class_code", "country"),)

    class_code: Mapped[str] = mapped_column(ForeignKey("material_classes.code"))
    country: Mapped[str] = mapped_column(String(2))
    tax_rate_code: Mapped[str] = mapped_column(String(8))
