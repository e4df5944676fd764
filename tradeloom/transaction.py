"""One database transaction per request.

``TransactionalRoute`` wraps each endpoint: the transaction it opens (lazily, on first use of the session)
is committed after the endpoint has produced its response and rolled back if anything raised. Owning the
response is what lets the idempotency record store the exact first response in the same transaction as the
business change (see docs/decisions/0002-transaction-per-request.md).
"""

import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tradeloom.db import apply_tenant

BeforeCommit = Callable[[Response], Awaitable[None]]


class ReplayResponse(Exception):
    """Raised to answer with a stored response instead of running the endpoint."""

    def __init__(self, response: Response) -> None:
        super().__init__("replay")
        self.response = response


class TransactionScope:
    """The request's transaction: opened on first use, in the app role, with the tenant context applied."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None
        self._context: dict[str, object] = {"org_id": None, "user_id": None, "platform_admin": False}
        self.before_commit: list[BeforeCommit] = []

    async def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._sessionmaker()
            await self._session.begin()
            await apply_tenant(self._session, **self._context)  # type: ignore[arg-type]
        return self._session

    async def set_context(
        self, *, org_id: uuid.UUID | None, user_id: uuid.UUID | None, platform_admin: bool = False
    ) -> None:
        """Act for this tenant and user from now on (applied at once if the transaction is open)."""
        self._context = {"org_id": org_id, "user_id": user_id, "platform_admin": platform_admin}
        if self._session is not None:
            await apply_tenant(self._session, org_id=org_id, user_id=user_id, platform_admin=platform_admin)

    async def finish(self, response: Response) -> None:
        if self._session is None:
            return
        for hook in self.before_commit:
            await hook(response)
        await self._session.commit()

    async def abandon(self) -> None:
        """Roll back; a later ``session()`` starts a fresh transaction with the context re-applied."""
        if self._session is not None:
            await self._session.rollback()
            await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class TransactionalRoute(APIRoute):
    """An APIRoute whose endpoint runs inside one transaction, committed only if it succeeded."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            scope = TransactionScope(request.app.state.sessionmaker)
            request.state.tx = scope
            try:
                response = await endpoint_handler(request)
                await scope.finish(response)
                return response
            except ReplayResponse as replay:
                await scope.abandon()
                return replay.response
            except BaseException:
                await scope.abandon()
                raise
            finally:
                await scope.close()

        return run_in_transaction


async def transaction_scope(request: Request) -> TransactionScope:
    # async, though it awaits nothing: FastAPI runs a plain ``def`` dependency in a worker thread, a thread
    # hand-off on every request for a getattr
    scope = getattr(request.state, "tx", None)
    if scope is None:
        raise RuntimeError(f"route {request.url.path} is not a TransactionalRoute")
    return scope


async def request_session(request: Request) -> AsyncSession:
    return await (await transaction_scope(request)).session()


Tx = Annotated[TransactionScope, Depends(transaction_scope)]
DbSession = Annotated[AsyncSession, Depends(request_session)]
