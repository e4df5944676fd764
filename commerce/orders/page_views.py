"""What the order pages share: organization names in the page's language, and the order detail page (lines,
steps, change requests, timeline), rendered after a GET and again, with the reasons, after a refused POST."""

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.labels import ACTION_LABELS, CHANGE_STATUS_LABELS, EVENT_LABELS, STATUS_LABELS
from commerce.orders.models import ChangeOrder, PurchaseOrder
from commerce.orders.rules import CANCEL, CHANGE_PERMISSIONS, CHANGEABLE, STEPS, party_of
from commerce.orders.service import changes, queries
from ledger.service import evidence_for_subject
from tradeloom.auth import Principal
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import list_organizations
from tradeloom.web.i18n import request_locale
from tradeloom.web.templating import render


async def org_names(request: Request, session: AsyncSession) -> dict[uuid.UUID, str]:
    chinese = request_locale(request, request.app.state.settings.default_locale) == "zh_CN"
    return {org.id: org.name_zh if chinese else org.name_en for org in await list_organizations(session)}


def _actions(order: PurchaseOrder, principal: Principal) -> list[str]:
    """The one-click steps this member could take on the order now (the service checks again)."""
    party = party_of(principal.org_id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id)
    return [step.action for step in (*STEPS.values(), CANCEL)
            if step.party == party and order.status in step.sources and principal.can(step.permission)
            and step.action != "confirm"]


def _change_context(order: PurchaseOrder, change_orders: list[ChangeOrder], principal: Principal) -> dict[str, Any]:
    """The change requests section: the list, and whether this member may propose, answer or withdraw."""
    party = party_of(principal.org_id, buyer_org_id=order.buyer_org_id, supplier_org_id=order.supplier_org_id)
    negotiates = party is not None and not CHANGE_PERMISSIONS.isdisjoint(principal.permissions)
    open_change = next((change for change in change_orders if change.status == "proposed"), None)
    return {
        "change_orders": change_orders, "open_change": open_change, "negotiates": negotiates,
        "can_propose": negotiates and open_change is None and order.status in CHANGEABLE,
        "change_status_labels": CHANGE_STATUS_LABELS,
    }


async def detail_page(request: Request, principal: Principal, session: AsyncSession, order_id: uuid.UUID,
                      errors: list[str], status_code: int = 200) -> Response:
    detail = await queries.order_detail(session, order_id=order_id)
    context: dict[str, Any] = {
        "order": detail.order, "lines": detail.lines, "timeline": detail.timeline, "errors": errors,
        "lines_by_id": {str(line.id): line for line in detail.lines},
        "names": await org_names(request, session), "actions": _actions(detail.order, principal),
        "can_confirm": detail.order.supplier_org_id == principal.org_id and detail.order.status == "sent"
        and principal.can(Permission.ORDER_CONFIRM),
        "status_labels": STATUS_LABELS, "event_labels": EVENT_LABELS, "action_labels": ACTION_LABELS,
        **_change_context(detail.order, await changes.list_changes(session, order_id=order_id), principal),
        "evidence": await evidence_for_subject(session, subject=f"order:{order_id}"),
    }
    return render(request, "orders/detail.html", context, principal=principal, status_code=status_code)
