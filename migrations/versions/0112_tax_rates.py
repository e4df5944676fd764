"""Configurable tax rates and material-class default rates; the China VAT rates seeded.

Platform data: every member reads it; only a platform administrator's request (``app.platform_admin``)
inserts or updates it (row-level security), never deletes (invoices issued under a rate stay explainable).

Revision ID: 0112
Revises: 0111
Create Date: 2026-11-25 19:10:00+00:00
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from tradeloom.rls import IS_PLATFORM_ADMIN, grant_app

revision: str = '0112'
down_revision: str | None = '0111'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# China VAT since 1 April 2019 (财政部 税务总局 海关总署公告2019年第39号).
CHINA_VAT = [("13", Decimal("0.13"), "13% 增值税", "13% VAT (goods)"),
             ("9", Decimal("0.09"), "9% 增值税", "9% VAT (agricultural goods, transport, construction)"),
             ("6", Decimal("0.06"), "6% 增值税", "6% VAT (services)"),
             ("0", Decimal("0"), "零税率", "Zero-rated (exports)"),
             ("exempt", Decimal("0"), "免税", "Exempt")]


def _platform_data(table: str) -> None:
    grant_app(table, "SELECT, INSERT, UPDATE")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY everyone_reads ON {table} FOR SELECT TO tradeloom_app USING (true)")
    op.execute(f"CREATE POLICY operator_inserts ON {table} FOR INSERT TO tradeloom_app "
               f"WITH CHECK ({IS_PLATFORM_ADMIN})")
    op.execute(f"CREATE POLICY operator_updates ON {table} FOR UPDATE TO tradeloom_app "
               f"USING ({IS_PLATFORM_ADMIN}) WITH CHECK ({IS_PLATFORM_ADMIN})")


def upgrade() -> None:
    rates = op.create_table('tax_rates',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('rate', sa.Numeric(precision=7, scale=6), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('rate >= 0 AND rate < 1', name=op.f('ck_tax_rates_rate_fraction')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_tax_rates_valid_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tax_rates')),
    sa.UniqueConstraint('country', 'code', 'valid_from', name=op.f('uq_tax_rates_country_code_valid_from'))
    )
    op.create_table('material_class_tax_rates',
    sa.Column('class_code', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('tax_rate_code', sa.String(length=8), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['class_code'], ['material_classes.code'],
                            name=op.f('fk_material_class_tax_rates_class_code_material_classes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_material_class_tax_rates')),
    sa.UniqueConstraint('class_code', 'country', name=op.f('uq_material_class_tax_rates_class_code_country'))
    )
    _platform_data('tax_rates')
    _platform_data('material_class_tax_rates')
    op.bulk_insert(rates, [
        {"id": uuid.uuid5(uuid.NAMESPACE_URL, f"tradeloom:tax-rate:CN:{code}"), "country": "CN", "code": code,
         "rate": rate, "name_zh": name_zh, "name_en": name_en, "valid_from": dt.date(2019, 4, 1), "valid_to": None}
        for code, rate, name_zh, name_en in CHINA_VAT])


def downgrade() -> None:
    op.drop_table('material_class_tax_rates')
    op.drop_table('tax_rates')
