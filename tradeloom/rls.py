"""Row-level security for migrations: the app role, its grants, and the tenant policy on a table.

Every migration that adds a tenant-owned table calls ``enable_tenant_rls``. Policies compare ``org_id`` to
``tl_current_org()``, the transaction-local ``app.org_id`` that ``tradeloom.db.apply_tenant`` sets.
"""

from alembic import op

from tradeloom.db import APP_ROLE

CURRENT_ORG = "tl_current_org()"
CURRENT_USER = "tl_current_user()"
IS_PLATFORM_ADMIN = "tl_is_platform_admin()"


def create_app_role() -> None:
    """The non-owner role requests run as; the migrating user must be able to ``SET ROLE`` to it."""
    op.execute(f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOINHERIT;
          END IF;
        END $$""")
    op.execute(f"""
        DO $$ BEGIN
          IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
          END IF;
        END $$""")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute("""
        CREATE FUNCTION tl_current_org() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
        CREATE FUNCTION tl_current_user() RETURNS uuid LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
        CREATE FUNCTION tl_is_platform_admin() RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE AS
        $$ SELECT coalesce(current_setting('app.platform_admin', true), '') = 'on' $$;
    """)


def grant_app(table: str, privileges: str) -> None:
    """E.g. ``grant_app("audit_log", "SELECT, INSERT")``: append-only tables get no UPDATE/DELETE."""
    op.execute(f"GRANT {privileges} ON {table} TO {APP_ROLE}")


def enable_tenant_rls(table: str, privileges: str = "SELECT, INSERT, UPDATE", column: str = "org_id") -> None:
    """Confine the app role to the current tenant's rows of ``table``, for reads and writes alike."""
    grant_app(table, privileges)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} TO {APP_ROLE} "
        f"USING ({column} = {CURRENT_ORG}) WITH CHECK ({column} = {CURRENT_ORG})"
    )
