"""Database kit: declarative base, engine, and the tenant-scoped transaction every request runs in.

Requests, jobs and tests run as the non-owner role ``tradeloom_app`` (``SET LOCAL ROLE``), so PostgreSQL
row-level security applies to them; the tenant is given by ``app.org_id`` and the acting user by
``app.user_id``, both transaction-local. Migrations and platform loops (outbox dispatcher) run as owner.
"""

import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Engine,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.sql.dml import Insert
from sqlalchemy.types import TIMESTAMP

from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Conflict

APP_ROLE = "tradeloom_app"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base: one MetaData with a naming convention for every package's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: TIMESTAMP(timezone=True),
        Decimal: Numeric(18, 4),
        uuid.UUID: PG_UUID(as_uuid=True),
        dict[str, Any]: JSONB,
        str: String(),
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class CreatedAtMixin:
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), default=utcnow)


class TenantMixin:
    """A tenant-owned row: ``org_id`` is the RLS key and the Citus distribution column."""

    org_id: Mapped[uuid.UUID] = mapped_column(index=True)


class VersionedMixin:
    """Optimistic concurrency: every UPDATE checks and bumps ``version`` (stale ⇒ StaleDataError)."""

    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


def driver_url(url: str) -> str:
    """Normalise a libpq-style URL to SQLAlchemy's psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")


def libpq_url(url: str) -> str:
    """The same URL as psycopg/libpq tools (psql, pgbench) accept it."""
    return driver_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, database: str) -> str:
    """The same server's URL naming another database, in libpq form (TCP and Unix-socket URLs alike)."""
    base, _, query = libpq_url(url).partition("?")
    return f"{base.rsplit('/', 1)[0]}/{database}" + (f"?{query}" if query else "")


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        driver_url(url), pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800,
    )


def make_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


_CONTEXT_SQL = text(
    "SELECT set_config('role', :role, true), set_config('app.org_id', :org_id, true),"
    " set_config('app.user_id', :user_id, true), set_config('app.platform_admin', :platform_admin, true)"
)
_CONTEXT = DriverStatement(_CONTEXT_SQL)  # every request's first statement


def _context(org_id: uuid.UUID | None, user_id: uuid.UUID | None, platform_admin: bool) -> dict[str, str]:
    return {
        "role": APP_ROLE, "org_id": str(org_id) if org_id else "", "user_id": str(user_id) if user_id else "",
        "platform_admin": "on" if platform_admin else "",
    }


async def apply_tenant(
    session: AsyncSession, *, org_id: uuid.UUID | None, user_id: uuid.UUID | None = None,
    platform_admin: bool = False,
) -> None:
    """Switch this transaction to the app role and the given tenant (RLS reads these settings)."""
    await _CONTEXT.first(session, _context(org_id, user_id, platform_admin))


@contextmanager
def job_tenant_session(engine: Engine, *, org_id: uuid.UUID) -> Iterator[Session]:
    """One transaction as the app role for one tenant, for (synchronous) RQ jobs. Commits on success."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.execute(_CONTEXT_SQL, _context(org_id, None, False))
        yield session


@asynccontextmanager
async def tenant_transaction(
    sessionmaker: async_sessionmaker[AsyncSession], *, org_id: uuid.UUID | None,
    user_id: uuid.UUID | None = None,
) -> AsyncIterator[AsyncSession]:
    """One transaction as the app role for one tenant: for jobs, seeds and scripts. Commits on success."""
    async with sessionmaker() as session, session.begin():
        await apply_tenant(session, org_id=org_id, user_id=user_id)
        yield session



# psycopg converts a statement with more parameters than this anew on every execution (its cache stops there).
_VALUES_PARAMETERS = 50


def _constant_defaults(table: Table, columns: tuple[str, ...]) -> dict[str, Any]:
    """The constant defaults of the columns ``columns`` leaves out; a computed one (a timestamp, an id) is refused."""
    left_out = [column for column in table.c if column.name not in columns and column.default is not None]
    computed = [column.name for column in left_out if not column.default.is_scalar]  # type: ignore[union-attr]
    if computed:
        raise ValueError(f"insert_rows into {table.name} needs values for {computed} (their defaults are computed)")
    return {column.name: column.default.arg for column in left_out}  # type: ignore[union-attr]


@functools.lru_cache(maxsize=256)
def _values_insert(model: type[Base], columns: tuple[str, ...], count: int) -> DriverStatement:
    """A multi-row VALUES statement for ``count`` rows, each row's parameters named ``<column>_<row>``."""
    table = Base.metadata.tables[model.__tablename__]
    defaults: dict[str, BindParameter[Any]] = {
        name: bindparam(f"{name}_default", value) for name, value in _constant_defaults(table, columns).items()}
    return DriverStatement(insert(table).values([
        defaults | {name: bindparam(f"{name}_{row}", type_=table.c[name].type) for name in columns}
        for row in range(count)
    ]))


@functools.cache
def _unnest_insert(model: type[Base], columns: tuple[str, ...]) -> tuple[DriverStatement, dict[str, Any]]:
    defaults = _constant_defaults(Base.metadata.tables[model.__tablename__], columns)
    return DriverStatement(unnest_insert(model, shared=tuple(defaults), per_row=columns)), defaults


async def insert_rows(session: AsyncSession, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (at least one, the same keys in each) into ``model``'s table as one statement, in this
    order, on the driver connection (``DriverStatement``: none of SQLAlchemy's work per statement or row).

    A few rows (up to 50 parameters) go as one multi-row VALUES statement, a statement per row count, each
    parameter dumped by psycopg in C. More go as one array per column (``unnest_insert``): one statement text for
    any number, no limit on parameters, but psycopg dumps arrays element by element in Python, about twice the
    cost for a few rows. A column the rows leave out takes its constant default; one whose default is computed
    (a timestamp, a new id) must be given.
    """
    columns = tuple(rows[0])
    if len(rows) * len(columns) <= _VALUES_PARAMETERS:
        values = {f"{name}_{index}": row[name] for index, row in enumerate(rows) for name in columns}
        await _values_insert(model, columns, len(rows)).execute(session, values)
        return
    statement, defaults = _unnest_insert(model, columns)
    await statement.execute(session, defaults | {name: [row[name] for row in rows] for name in columns})


def unnest_insert(model: type[Base], *, shared: Sequence[str], per_row: Sequence[str]) -> Insert:
    """``INSERT … SELECT`` of rows given as one array per column (``per_row``, each bound by its column's name)
    and values the same in every row (``shared``, bound likewise). A Core statement on the model's table: for the
    rows as objects, ``select(model).from_statement(unnest_insert(…).returning(*table.c))``.

    Its text is the same however many rows there are: psycopg converts it once and can keep it prepared on the
    server. A multi-row ``VALUES`` list is a new statement for every row count, and past 50 parameters psycopg
    parses it again on every execution.
    """
    table = Base.metadata.tables[model.__tablename__]
    columns = table.c
    rows = func.unnest(*[bindparam(name, type_=ARRAY(columns[name].type)) for name in per_row]
                       ).table_valued(*per_row).render_derived()
    values = select(*[bindparam(name, type_=columns[name].type) for name in shared],
                    *[rows.c[name] for name in per_row])
    return insert(table).from_select([*shared, *per_row], values)


async def flush_or_conflict(session: AsyncSession, message: str, code: str) -> None:
    """Flush pending rows; a unique-constraint violation becomes a 409 in our own words."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(message, code=code) from exc
