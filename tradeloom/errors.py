"""Domain errors and their RFC 9457 problem+json rendering.

Services raise ``TradeloomError`` subclasses with a stable machine-readable ``code``; one set of handlers
turns them, request-validation failures and unexpected exceptions into problem documents. A bare
``ValueError`` is never mapped to a 4xx: an unexpected exception is a 500 with no traceback leaked.
"""

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://tradeloom.dev/problems/"


class ProblemResponse(Response):
    """An RFC 9457 problem document."""

    media_type = "application/problem+json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class TradeloomError(Exception):
    """A failure the caller can act on: rendered as problem+json with ``code`` and ``status``."""

    status = 400
    default_code = "bad_request"
    title = "Bad request"

    def __init__(
        self, message: str, *, code: str | None = None, errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.errors = list(errors)
        self.headers = headers or {}


class NotFound(TradeloomError):
    status, default_code, title = 404, "not_found", "Not found"


class Unauthorized(TradeloomError):
    status, default_code, title = 401, "unauthorized", "Authentication required"


class Forbidden(TradeloomError):
    status, default_code, title = 403, "forbidden", "Forbidden"


class Conflict(TradeloomError):
    status, default_code, title = 409, "conflict", "Conflict"


class PreconditionFailed(TradeloomError):
    status, default_code, title = 412, "precondition_failed", "Precondition failed"


class PreconditionRequired(TradeloomError):
    status, default_code, title = 428, "precondition_required", "Precondition required"


class PayloadTooLarge(TradeloomError):
    status, default_code, title = 413, "payload_too_large", "Payload too large"


class Invalid(TradeloomError):
    status, default_code, title = 422, "invalid", "Invalid input"


class TooManyRequests(TradeloomError):
    status, default_code, title = 429, "rate_limited", "Too many requests"


class Unavailable(TradeloomError):
    status, default_code, title = 503, "unavailable", "Service unavailable"


def problem_response(
    *, status: int, code: str, title: str, detail: str, instance: str | None = None,
    errors: Sequence[dict[str, Any]] = (), headers: dict[str, str] | None = None,
) -> ProblemResponse:
    """One RFC 9457 document; ``code`` is our stable extension member."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "pointer": "/" + "/".join(str(part) for part in err["loc"][1:]) if len(err["loc"]) > 1 else "/",
            "location": str(err["loc"][0]) if err["loc"] else "body",
            "code": err["type"],
            "detail": err["msg"],
        }
        for err in exc.errors()
    ]


async def _tradeloom_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, TradeloomError)
    return problem_response(
        status=exc.status, code=exc.code, title=exc.title, detail=exc.message,
        instance=request.url.path, errors=exc.errors, headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    malformed = any(err["code"] == "json_invalid" for err in errors)
    return problem_response(
        status=400 if malformed else 422,
        code="malformed_json" if malformed else "validation_failed",
        title="Malformed JSON" if malformed else "Invalid input",
        detail="The request body is not valid JSON." if malformed
        else f"{len(errors)} field(s) failed validation.",
        instance=request.url.path, errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
        exc.status_code, f"http_{exc.status_code}"
    )
    return problem_response(
        status=exc.status_code, code=code, title=str(exc.detail), detail=str(exc.detail),
        instance=request.url.path, headers=getattr(exc, "headers", None),
    )


async def _unexpected_error(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        status=500, code="internal_error", title="Internal error",
        detail="Something went wrong on our side; it has been logged.", instance=request.url.path,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as problem+json."""
    app.add_exception_handler(TradeloomError, _tradeloom_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
