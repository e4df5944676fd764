"""Safety nets for database errors that slipped past a service's own checks: a 4xx, never a 500.

Services turn expected violations into domain errors themselves (``flush_or_conflict``); these handlers
catch the rest (a concurrent update that lost the version race, a row-level-security refusal, text with a NUL
character).
"""

import logging

import psycopg
from fastapi import FastAPI, Request
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from tradeloom.errors import ProblemResponse, problem_response

log = logging.getLogger(__name__)

# PostgreSQL text and jsonb cannot hold U+0000: the server refuses it in JSON (22P05), psycopg refuses to send it
# in text (a DataError with no SQLSTATE).
_NUL_IN_TEXT = (422, "invalid_text", "Invalid input", "Text cannot hold the NUL character (\\u0000).")
_SQLSTATE_PROBLEMS = {
    "42501": (403, "tenant_violation", "Forbidden", "That change is outside your organization."),
    "40001": (409, "serialization_conflict", "Conflict", "A concurrent change won; retry the request."),
    "40P01": (409, "deadlock_retry", "Conflict", "A concurrent change won; retry the request."),
    "22P02": (422, "invalid_value", "Invalid input", "A value has the wrong form."),
    "22003": (422, "value_out_of_range", "Invalid input", "A number is out of range."),
    "23514": (422, "check_violation", "Invalid input", "A value breaks a rule of the stored data."),
    "22P05": _NUL_IN_TEXT,
}


async def _stale(request: Request, exc: Exception) -> ProblemResponse:
    return problem_response(
        status=412, code="version_conflict", title="Precondition failed",
        detail="The resource was changed by someone else meanwhile; read it again.", instance=request.url.path,
    )


async def _integrity(request: Request, exc: Exception) -> ProblemResponse:
    log.warning("integrity error reached the handler", extra={"error": str(exc)[:300]})
    return problem_response(
        status=409, code="conflict", title="Conflict",
        detail="The change conflicts with stored data (a duplicate or a missing reference).",
        instance=request.url.path,
    )


async def _dbapi(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, DBAPIError)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None and isinstance(exc.orig, psycopg.DataError):
        status, code, title, detail = _NUL_IN_TEXT
    elif sqlstate in _SQLSTATE_PROBLEMS:
        status, code, title, detail = _SQLSTATE_PROBLEMS[sqlstate]
    else:
        raise exc
    log.warning("database refused a request", extra={"sqlstate": sqlstate, "error": str(exc.orig)[:300],
                                                     "statement": str(exc.statement)[:300]})
    return problem_response(status=status, code=code, title=title, detail=detail, instance=request.url.path)


def install_storage_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StaleDataError, _stale)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DBAPIError, _dbapi)
