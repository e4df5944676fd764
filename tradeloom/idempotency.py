"""``Idempotency-Key`` for POSTs that create or change money, stock or documents.

The key is claimed with ``INSERT … ON CONFLICT DO NOTHING`` in the request's own transaction, so a
concurrent duplicate waits on the unique index until the first request commits (then it replays the
stored response) or rolls back (then it runs itself): exactly one executes. The first response is stored
just before commit. A failed request (4xx/5xx raised) rolls back its claim, so a retry runs again.
"""

import datetime as dt
import hashlib
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from sqlalchemy import LargeBinary, SmallInteger, String, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Mapped, mapped_column
from starlette.datastructures import UploadFile

from tradeloom.auth import CurrentPrincipal
from tradeloom.db import Base, utcnow
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Invalid
from tradeloom.transaction import ReplayResponse, Tx

KEY_PATTERN = r"^[A-Za-z0-9._:\-]{8,128}$"
RETENTION = dt.timedelta(hours=48)  # replays are answered for this long; housekeeping purges older keys


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    org_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    response_headers: Mapped[dict[str, Any] | None]
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


_REPLAYED_HEADERS = ("content-type", "location", "etag")
# Every POST with a key runs both, on the driver connection: no IdempotencyRecord object is ever loaded in a
# request that claims a key, so no session state is left behind.
_CLAIM = DriverStatement(pg_insert(IdempotencyRecord).values({name: bindparam(name) for name in (
    "org_id", "key", "request_hash", "method", "path", "created_at")}).on_conflict_do_nothing().returning(
    IdempotencyRecord.key))
_STORE_RESPONSE = DriverStatement(update(IdempotencyRecord).where(
    IdempotencyRecord.org_id == bindparam("claimed_org_id"), IdempotencyRecord.key == bindparam("claimed_key")
).values({name: bindparam(name) for name in ("status_code", "response_body", "response_headers")}))


async def idempotency_guard(
    request: Request, tx: Tx, principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(pattern=KEY_PATTERN)] = None,
) -> str | None:
    """Claim the key for this request, or answer with the first response for it."""
    if idempotency_key is None:
        return None
    session = await tx.session()
    request_hash = await _request_hash(request)
    claimed = await _CLAIM.scalar(session, {
        "org_id": principal.org_id, "key": idempotency_key, "request_hash": request_hash, "method": request.method,
        "path": request.url.path, "created_at": utcnow(),
    })
    if claimed is None:
        raise ReplayResponse(await _stored_response(tx, principal.org_id, idempotency_key, request_hash))

    async def store_first_response(response: Response) -> None:
        await _STORE_RESPONSE.execute(session, {
            "claimed_org_id": principal.org_id, "claimed_key": idempotency_key,
            "status_code": response.status_code, "response_body": bytes(response.body),
            "response_headers": {k: v for k, v in response.headers.items() if k in _REPLAYED_HEADERS},
        })

    tx.before_commit.append(store_first_response)
    return idempotency_key


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
_FILE_CHUNK = 1024 * 1024


async def _request_hash(request: Request) -> str:
    """SHA-256 of method, path and body; of a form, over its fields and files as parsed.

    FastAPI has read a form's body already when the endpoint takes ``File``/``Form`` parameters (its raw bytes
    are gone), and a client retrying an upload may choose a new multipart boundary: the same request either way.
    """
    digest = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n")
    if not request.headers.get("content-type", "").startswith(_FORM_TYPES):
        digest.update(await request.body())
        return digest.hexdigest()
    for name, value in (await request.form()).multi_items():
        _add_part(digest, name.encode())
        if isinstance(value, UploadFile):
            _add_part(digest, (value.filename or "").encode())
            digest.update(b"%d:" % (value.size or 0))
            while chunk := await value.read(_FILE_CHUNK):  # a large file is not held in memory twice
                digest.update(chunk)
            await value.seek(0)
        else:
            _add_part(digest, value.encode())
    return digest.hexdigest()


def _add_part(digest: "hashlib._Hash", part: bytes) -> None:
    """Length first, so that fields cannot run into each other ("ab" + "c" ≠ "a" + "bc")."""
    digest.update(b"%d:" % len(part) + part)


async def _stored_response(tx: Tx, org_id: uuid.UUID, key: str, request_hash: str) -> Response:
    session = await tx.session()
    record = (
        await session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.org_id == org_id, IdempotencyRecord.key == key)
        )
    ).scalar_one()
    if record.request_hash != request_hash:
        raise Invalid(
            "This Idempotency-Key was already used for a different request.", code="idempotency_key_reused"
        )
    headers = dict(record.response_headers or {}) | {"idempotent-replayed": "true"}
    return Response(content=record.response_body, status_code=record.status_code or 200, headers=headers)


Idempotent = Annotated[str | None, Depends(idempotency_guard)]
