"""Scorecard pages: a buyer's supplier scorecards (list, export links) and one supplier's scorecard with a chart
of the rolling score by month; a supplier sees its own scorecard."""

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from commerce.supplier_performance import reviews, schemas, service
from commerce.supplier_performance.scoring import WEIGHTS
from tradeloom.auth import Principal
from tradeloom.db import utcnow
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, render

router = PrefixedRouter(prefix="/suppliers", route_class=TransactionalRoute, include_in_schema=False)
METRIC_LABELS = {"on_time": N_("On-time delivery"), "quality": N_("Quality at goods receipt"),
                 "invoice_accuracy": N_("Invoice accuracy"), "confirmation": N_("Order confirmation speed"),
                 "quotation_response": N_("Quotation response"), "reviews": N_("Buyer reviews")}


@router.get("/scorecards")
async def scorecards_page(request: Request, principal: Member, tx: Tx) -> Response:
    """Buyers: every supplier they traded with; a supplier without buying rights goes to its own scorecard."""
    if not principal.can(Permission.ORDER_CREATE):
        return RedirectResponse(f"/suppliers/{principal.org_id}/scorecard", status_code=303)
    rows = await service.buyer_scorecards(await tx.session(), actor=principal.actor, as_of=utcnow().date())
    return render(request, "supplier_performance/list.html",
                  {"rows": rows, "metric_labels": METRIC_LABELS, "weights": WEIGHTS}, principal=principal)


async def _card_page(request: Request, principal: Principal, session: AsyncSession, supplier_org_id: uuid.UUID,
                     errors: list[str], status_code: int = 200) -> Response:
    card = await service.scorecard(session, actor=principal.actor, supplier_org_id=supplier_org_id,
                                   as_of=utcnow().date())
    out = schemas.scorecard_out(card)
    can_review = principal.can(Permission.ORDER_CREATE) and principal.org_id != supplier_org_id
    context: dict[str, Any] = {
        "card": card, "out": out, "errors": errors, "metric_labels": METRIC_LABELS, "is_self": card.own is None,
        "reviewable": await reviews.reviewable_orders(session, actor=principal.actor, supplier_org_id=supplier_org_id)
        if can_review else [],
        "chart": {"labels": [point.month.strftime("%Y-%m") for point in out.trend],
                  "platform": [str(point.platform_score) for point in out.trend],
                  "own": [None if point.own_score is None else str(point.own_score) for point in out.trend]}}
    return render(request, "supplier_performance/scorecard.html", context, principal=principal,
                  status_code=status_code)


@router.get("/{supplier_org_id}/scorecard")
async def scorecard_page(supplier_org_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _card_page(request, principal, await tx.session(), supplier_org_id, [])


@router.post("/{supplier_org_id}/reviews")
async def review_from_form(supplier_org_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: FormData) -> None:
        principal.require(Permission.ORDER_CREATE)
        body = schemas.ReviewIn.model_validate({"order_id": form.get("order_id"), "stars": form.get("stars"),
                                                "comment": form.get("comment") or ""})
        await reviews.post_review(session, actor=principal.actor, order_id=body.order_id, stars=body.stars,
                                  comment=body.comment)

    return await run_form_action(request, tx, action, done_url=f"/suppliers/{supplier_org_id}/scorecard",
                                 show_again=lambda s, e, c: _card_page(request, principal, s, supplier_org_id, e, c))


def install(app: FastAPI) -> None:
    """The scorecard pages and their menu entry (buyers and suppliers)."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    app.include_router(router)
    add_nav_item(NavItem("/suppliers/scorecards", N_("Supplier scorecards"),
                         permission=frozenset({Permission.ORDER_CREATE, Permission.ORDER_CONFIRM}), order=45))
