"""Change request pages: propose new quantities or dates on the order page, answer (accept or decline) or
withdraw an open change request, and ``/orders/changes``, the change requests waiting for your answer.

A refused proposal or answer re-renders the order page with the reason and the service's status."""

import uuid
from collections.abc import Awaitable, Callable
from enum import StrEnum

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.labels import STATUS_LABELS
from commerce.orders.models import OrderLine
from commerce.orders.page_views import detail_page, org_names
from commerce.orders.rules import require_change_permission
from commerce.orders.schemas import ChangeOrderIn, LineChange
from commerce.orders.service import changes, queries
from commerce.orders.service.changes import ChangeDecision
from commerce.orders.service.common import order_lines
from tradeloom.audit import Actor
from tradeloom.auth import Principal
from tradeloom.errors import TradeloomError
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_fields, form_version
from tradeloom.web.pages import Member
from tradeloom.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
Answer = Callable[..., Awaitable[ChangeDecision]]


class ChangeAnswer(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"


ANSWERS: dict[ChangeAnswer, Answer] = {
    ChangeAnswer.ACCEPT: changes.accept_change, ChangeAnswer.DECLINE: changes.decline_change,
    ChangeAnswer.WITHDRAW: changes.withdraw_change,
}


@router.get("/orders/changes")
async def changes_page(request: Request, principal: Member, tx: Tx) -> Response:
    require_change_permission(principal.permissions)
    session = await tx.session()
    return render(request, "orders/changes.html", {
        "pending": await changes.awaiting_answer(session, actor=principal.actor),
        "names": await org_names(request, session), "status_labels": STATUS_LABELS,
    }, principal=principal)


def _proposed_lines(form: dict[str, str], lines: list[OrderLine]) -> list[LineChange]:
    """The lines whose quantity or date the member changed on the form (validated like the API's)."""
    proposed = []
    for line in lines:
        entered = LineChange.model_validate({"line_id": line.id,
                                             "quantity": form.get(f"change_qty_{line.id}") or None,
                                             "requested_date": form.get(f"change_date_{line.id}") or None})
        current_quantity = line.quantity if line.confirmed_quantity is None else line.confirmed_quantity
        quantity = None if entered.quantity == current_quantity else entered.quantity
        date = None if entered.requested_date == (line.confirmed_date or line.requested_date) \
            else entered.requested_date
        if quantity is not None or date is not None:
            proposed.append(LineChange(line_id=line.id, quantity=quantity, requested_date=date))
    return proposed


async def _propose(session: AsyncSession, actor: Actor, order_id: uuid.UUID, form: dict[str, str]) -> None:
    await queries.get_order(session, order_id=order_id)  # a stranger gets 404 before anything is read
    proposal = ChangeOrderIn.model_validate({
        "reason": form.get("reason", "").strip(),
        "lines": _proposed_lines(form, await order_lines(session, order_id)),
    })
    await changes.propose_change(session, actor=actor, order_id=order_id, expected_version=form_version(
        form.get("version")), reason=proposal.reason, changes=proposal.lines)


async def _refused(request: Request, principal: Principal, tx: Tx, order_id: uuid.UUID,
                   exc: ValidationError | TradeloomError) -> Response:
    await tx.abandon()
    status = exc.status if isinstance(exc, TradeloomError) else 422
    return await detail_page(request, principal, await tx.session(), order_id, form_errors(exc), status_code=status)


@router.post("/orders/{order_id}/changes")
async def propose_change(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID) -> Response:
    """Propose the quantities and dates changed on the form, with a reason; the other party answers."""
    require_change_permission(principal.permissions)
    form = await form_fields(request)
    try:
        await _propose(await tx.session(), principal.actor, order_id, form)
    except (ValidationError, TradeloomError) as exc:
        return await _refused(request, principal, tx, order_id, exc)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


@router.post("/orders/{order_id}/changes/{change_id}/{answer}")
async def answer_change(request: Request, principal: Member, tx: Tx, order_id: uuid.UUID, change_id: uuid.UUID,
                        answer: ChangeAnswer) -> Response:
    """Accept or decline the other party's change request, or withdraw your own."""
    require_change_permission(principal.permissions)
    form = await form_fields(request)
    try:
        await ANSWERS[answer](await tx.session(), actor=principal.actor, order_id=order_id, change_id=change_id,
                              expected_version=form_version(form.get("version")))
    except TradeloomError as exc:
        return await _refused(request, principal, tx, order_id, exc)
    return RedirectResponse(f"/orders/{order_id}", status_code=303)
