"""Hot-path statements run on the session's own psycopg connection, inside its transaction (decision 0033).

Executing a statement through SQLAlchemy's session costs about 130 µs of Python before the first row (execution
context, result metadata, the greenlet hop), and more per row; the same statement sent on the driver connection
costs about 55 µs (BENCHMARKS.md, "Hot-path statements on the driver connection"). A placed order runs about
twenty statements, so that difference is a fifth of its request. ``DriverStatement`` keeps the statement written
in SQLAlchemy Core (one definition, its table columns checked), compiles it once for psycopg, and runs it on the
connection the session's transaction holds, rows as plain tuples.

It takes only statements psycopg can be given as they are: no expanding ``IN`` (write ``= ANY(array)``), and no
parameter SQLAlchemy would convert first, except JSON (and arrays of it), which goes as JSON text; anything
else is refused when the statement is built. SQL NULL stands for a JSON parameter's None. Database
errors come out as SQLAlchemy's own exceptions, so the handlers in ``tradeloom.storage_errors`` answer them as
they answer every other statement's. The session is not flushed first (sessions here do not autoflush either).
"""

import json
from collections.abc import Callable, Mapping
from typing import Any, cast

import psycopg
from sqlalchemy import ARRAY, JSON, Boolean
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

_DIALECT = psycopg_dialect.dialect()
_CACHED = "tradeloom.driver_connection"


def _json(value: Any) -> str | None:
    """JSON text, as SQLAlchemy's JSON type writes it; the statement's own cast makes it json or jsonb (psycopg's
    ``Jsonb`` wrapper, one Python dumper call per value, costs more)."""
    return None if value is None else json.dumps(value)


def _json_array(values: list[Any]) -> list[str | None]:
    return [_json(value) for value in values]


def _adapter(type_: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """How psycopg is given a parameter of this type: None when as it is; ``TypeError`` when it cannot be."""
    if isinstance(type_, JSON):
        return _json
    if isinstance(type_, ARRAY):
        if isinstance(type_.item_type, JSON):
            return _json_array
        if _adapter(type_.item_type) is None:
            return None
    elif isinstance(type_, Boolean) or type_.dialect_impl(_DIALECT).bind_processor(_DIALECT) is None:
        return None
    raise TypeError(f"SQLAlchemy converts {type_!r} parameters first")


class DriverStatement:
    """A Core statement compiled once, executed on the driver connection of the session's transaction."""

    def __init__(self, statement: ClauseElement) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        if "POSTCOMPILE" in compiled.string:
            raise ValueError(f"an expanding IN cannot be a driver statement: {compiled.string[:200]}")
        adapters = {name: _adapter(bind.type) for name, bind in compiled.binds.items()}
        self._adapters = {name: adapter for name, adapter in adapters.items() if adapter is not None}
        self.sql = compiled.string
        self._constants = {name: value for name, value in compiled.params.items() if value is not None}

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> None:
        await self._execute(session, params)

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = await self._execute(session, params)
        return await cursor.fetchall()

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        cursor = await self._execute(session, params)
        return await cursor.fetchone()

    async def scalar(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        row = await self.first(session, params)
        return None if row is None else row[0]

    async def _execute(self, session: AsyncSession, params: Mapping[str, Any]) -> psycopg.AsyncCursor[Any]:
        values = self._constants | dict(params)
        for name, adapt in self._adapters.items():
            values[name] = adapt(values[name])
        connection = await _driver_connection(session)
        try:
            return await connection.execute(self.sql, values)
        except psycopg.Error as exc:
            raise DBAPIError.instance(self.sql, values, exc, psycopg.Error, dialect=_DIALECT) from exc


async def _driver_connection(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection of the session's current transaction (it begins one if none is open), kept in
    ``session.info`` with the transaction it belongs to: asking SQLAlchemy for it each time costs ~35 µs."""
    transaction = session.sync_session.get_transaction()
    cached = session.info.get(_CACHED)
    if transaction is not None and cached is not None and cached[0] is transaction:
        return cast(psycopg.AsyncConnection[Any], cached[1])
    fairy = await (await session.connection()).get_raw_connection()
    connection = cast(psycopg.AsyncConnection[Any], fairy.driver_connection)
    session.info[_CACHED] = (session.sync_session.get_transaction(), connection)
    return connection
