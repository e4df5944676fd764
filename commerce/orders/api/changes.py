"""Change orders: one party proposes new quantities or dates for a confirmed order, the other answers."""

import uuid

from fastapi import Response

from commerce.orders.api.orders import PREFIX
from commerce.orders.models import ChangeOrder
from commerce.orders.rules import require_change_permission
from commerce.orders.schemas import ChangeOrderIn, ChangeOrderOut
from commerce.orders.service import changes
from tradeloom.auth import CurrentPrincipal
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix=PREFIX, tags=["change orders"], route_class=TransactionalRoute)


def _out(change_order: ChangeOrder) -> ChangeOrderOut:
    return ChangeOrderOut.model_validate(change_order)


@router.get("/{order_id}/changes")
async def list_changes(order_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession) -> list[ChangeOrderOut]:
    """Every change order of the order, by revision."""
    return [_out(c) for c in await changes.list_changes(session, order_id=order_id)]


@router.post("/{order_id}/changes", status_code=201)
async def propose_change(
    order_id: uuid.UUID, body: ChangeOrderIn, principal: CurrentPrincipal, session: DbSession,
    expected_version: ExpectedVersion, _key: Idempotent,
) -> ChangeOrderOut:
    """Propose new quantities or dates (If-Match: the order's ETag); the other party accepts or declines."""
    require_change_permission(principal.permissions)
    return _out(await changes.propose_change(session, actor=principal.actor, order_id=order_id,
                                             expected_version=expected_version, reason=body.reason,
                                             changes=body.lines))


@router.post("/{order_id}/changes/{change_id}/accept")
async def accept_change(
    order_id: uuid.UUID, change_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent,
) -> ChangeOrderOut:
    """Agree to the other party's change: the order's lines and totals change (new ETag)."""
    require_change_permission(principal.permissions)
    decision = await changes.accept_change(session, actor=principal.actor, order_id=order_id, change_id=change_id,
                                           expected_version=expected_version)
    set_etag(response, decision.order.version)
    return _out(decision.change_order)


@router.post("/{order_id}/changes/{change_id}/decline")
async def decline_change(
    order_id: uuid.UUID, change_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent,
) -> ChangeOrderOut:
    """Refuse the other party's change: the order stays as it was."""
    require_change_permission(principal.permissions)
    decision = await changes.decline_change(session, actor=principal.actor, order_id=order_id, change_id=change_id,
                                            expected_version=expected_version)
    set_etag(response, decision.order.version)
    return _out(decision.change_order)


@router.post("/{order_id}/changes/{change_id}/withdraw")
async def withdraw_change(
    order_id: uuid.UUID, change_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession, response: Response,
    expected_version: ExpectedVersion, _key: Idempotent,
) -> ChangeOrderOut:
    """Take back your own change order before the other party answers: the order stays as it was."""
    require_change_permission(principal.permissions)
    decision = await changes.withdraw_change(session, actor=principal.actor, order_id=order_id,
                                             change_id=change_id, expected_version=expected_version)
    set_etag(response, decision.order.version)
    return _out(decision.change_order)
