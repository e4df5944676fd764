"""Foundation: identity, tenancy (row-level security), sites, audit log, outbox, idempotency keys.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:23:23.031918+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from tradeloom.db import XID8
from tradeloom.rls import CURRENT_ORG, CURRENT_USER, IS_PLATFORM_ADMIN, create_app_role, enable_tenant_rls, grant_app

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_app_role()
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.UUID(), nullable=True),
    sa.Column('actor_api_key_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('client_ip', postgresql.INET(), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_org_id'), 'audit_log', ['org_id'], unique=False)
    op.create_table('idempotency_keys',
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('response_headers', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('response_body', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'], unique=False)
    op.create_table('organizations',
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('uscc', name=op.f('uq_organizations_uscc'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('available_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('dispatched_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('tx_id', XID8(), server_default=sa.text('pg_current_xact_id()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_due', 'outbox', ['available_at'], unique=False, postgresql_where=sa.text('dispatched_at IS NULL'))
    op.create_index(op.f('ix_outbox_org_id'), 'outbox', ['org_id'], unique=False)
    op.create_index('ix_outbox_org_feed', 'outbox', ['org_id', 'tx_id', 'id'], unique=False)
    op.create_table('sites',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('province', sa.String(length=64), nullable=False),
    sa.Column('city', sa.String(length=64), nullable=False),
    sa.Column('address_line', sa.String(length=300), nullable=False),
    sa.Column('postal_code', sa.String(length=16), nullable=True),
    sa.Column('contact_name', sa.String(length=120), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('org_id', 'code', name=op.f('uq_sites_org_id_code'))
    )
    op.create_index(op.f('ix_sites_org_id'), 'sites', ['org_id'], unique=False)
    op.create_table('users',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('api_keys',
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('rate_limit_per_minute', sa.Integer(), server_default=sa.text('600'), nullable=False),
    sa.Column('last_used_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_api_keys_created_by_users')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_api_keys_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_index(op.f('ix_api_keys_org_id'), 'api_keys', ['org_id'], unique=False)
    op.create_table('memberships',
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('roles', postgresql.ARRAY(sa.String(length=32)), nullable=False),
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_memberships_org_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_memberships')),
    sa.UniqueConstraint('org_id', 'user_id', name=op.f('uq_memberships_org_id_user_id'))
    )
    op.create_index(op.f('ix_memberships_org_id'), 'memberships', ['org_id'], unique=False)
    op.create_index(op.f('ix_memberships_user_id'), 'memberships', ['user_id'], unique=False)
    op.create_table('web_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('org_id', sa.UUID(), nullable=False),
    sa.Column('expires_at', sa.TIMESTAMP(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.TIMESTAMP(timezone=True), nullable=True),
    sa.Column('created_at', sa.TIMESTAMP(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_web_sessions_org_id_organizations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_web_sessions'))
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'], unique=False)
    _row_level_security()
    _lookup_functions()


def _row_level_security() -> None:
    enable_tenant_rls("sites")
    enable_tenant_rls("api_keys")
    enable_tenant_rls("idempotency_keys")
    enable_tenant_rls("audit_log", "SELECT, INSERT")
    enable_tenant_rls("outbox", "SELECT, INSERT")
    grant_app("web_sessions", "SELECT, INSERT, UPDATE")  # keyed by the hash of a secret cookie; no tenant
    # The directory of organizations is public to members; each edits only its own row.
    grant_app("organizations", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE organizations ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY directory_read ON organizations FOR SELECT TO tradeloom_app USING (true)")
    op.execute(f"CREATE POLICY own_update ON organizations FOR UPDATE TO tradeloom_app USING (id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY operator_insert ON organizations FOR INSERT TO tradeloom_app WITH CHECK ({IS_PLATFORM_ADMIN})")
    # Memberships: an org sees its members, a user sees their own memberships (to choose an org).
    grant_app("memberships", "SELECT, INSERT, UPDATE, DELETE")
    op.execute("ALTER TABLE memberships ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY member_read ON memberships FOR SELECT TO tradeloom_app USING (org_id = {CURRENT_ORG} OR user_id = {CURRENT_USER})")
    op.execute(f"CREATE POLICY org_insert ON memberships FOR INSERT TO tradeloom_app WITH CHECK (org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY org_update ON memberships FOR UPDATE TO tradeloom_app USING (org_id = {CURRENT_ORG}) WITH CHECK (org_id = {CURRENT_ORG})")
    op.execute(f"CREATE POLICY org_delete ON memberships FOR DELETE TO tradeloom_app USING (org_id = {CURRENT_ORG})")
    # Users: yourself, the members of your org; anyone may be created (invited), only you edit yourself.
    grant_app("users", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute(f"""CREATE POLICY visible_users ON users FOR SELECT TO tradeloom_app USING (
        id = {CURRENT_USER} OR {IS_PLATFORM_ADMIN}
        OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = {CURRENT_ORG}))""")
    op.execute("CREATE POLICY user_insert ON users FOR INSERT TO tradeloom_app WITH CHECK (true)")
    op.execute(f"CREATE POLICY self_update ON users FOR UPDATE TO tradeloom_app USING (id = {CURRENT_USER})")


def _lookup_functions() -> None:
    """Look-ups that must work before the tenant is known (sign-in, API keys), exposing only what they need."""
    op.execute("""
        CREATE FUNCTION tl_login_lookup(p_email text)
        RETURNS TABLE (id uuid, password_hash text, is_active boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ SELECT id, password_hash, is_active FROM users WHERE email = lower(p_email) $$;
        CREATE FUNCTION tl_api_key_lookup(p_prefix text)
        RETURNS TABLE (id uuid, org_id uuid, org_kind text, secret_hash text, scopes text[], revoked_at timestamptz,
                       rate_limit_per_minute integer)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ SELECT k.id, k.org_id, o.kind, k.secret_hash, k.scopes::text[], k.revoked_at, k.rate_limit_per_minute
           FROM api_keys k JOIN organizations o ON o.id = k.org_id
           WHERE k.prefix = p_prefix AND o.is_active $$;
        REVOKE ALL ON FUNCTION tl_login_lookup(text), tl_api_key_lookup(text) FROM PUBLIC;
        GRANT EXECUTE ON FUNCTION tl_login_lookup(text), tl_api_key_lookup(text) TO tradeloom_app;
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION tl_login_lookup(text), tl_api_key_lookup(text)")
    op.execute("DROP POLICY visible_users ON users")  # it reads memberships
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_memberships_user_id'), table_name='memberships')
    op.drop_index(op.f('ix_memberships_org_id'), table_name='memberships')
    op.drop_table('memberships')
    op.drop_index(op.f('ix_api_keys_org_id'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_table('users')
    op.drop_index(op.f('ix_sites_org_id'), table_name='sites')
    op.drop_table('sites')
    op.drop_index(op.f('ix_outbox_org_id'), table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox', postgresql_where=sa.text('dispatched_at IS NULL'))
    op.drop_table('outbox')
    op.drop_table('organizations')
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    op.drop_index(op.f('ix_audit_log_org_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.execute("DROP FUNCTION tl_current_org(), tl_current_user(), tl_is_platform_admin()")
