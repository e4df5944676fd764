"""EDI pages in the organization's integration settings: partners (add, switch on/off) and the message log."""

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.edi import service
from integrations.edi.schemas import PartnerIn
from integrations.sites import active_sites
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/integrations/edi", route_class=TransactionalRoute, include_in_schema=False)
STATUS_LABELS = {"accepted": N_("Accepted"), "rejected": N_("Rejected"), "partial": N_("Partly accepted"),
                 "received": N_("Received"), "ready": N_("Waiting for download"), "downloaded": N_("Downloaded")}
DIRECTION_LABELS = {"in": N_("Inbound"), "out": N_("Outbound")}


async def _page(request: Request, principal: Member, session: AsyncSession, errors: list[str] | None = None,
                form: dict[str, Any] | None = None, status: int = 200) -> Response:
    partners = await service.list_partners(session)
    return render(request, "edi/partners.html", {
        "partners": partners, "names": {p.id: p.name for p in partners},
        "interchanges": await service.list_interchanges(session, limit=50),
        "sites": await active_sites(session), "errors": errors or [], "form": form or {},
        "message_types": service.MESSAGE_TYPES, "directories": service.DIRECTORIES,
    }, principal=principal, status_code=status)


@router.get("")
async def partners_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    return await _page(request, principal, await tx.session())


@router.post("")
async def add_partner(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    submitted = await request.form()

    async def action(session: AsyncSession, form: Any) -> None:
        body = PartnerIn.model_validate({
            "name": form.get("name"), "partner_id": form.get("partner_id"),
            "partner_qualifier": form.get("partner_qualifier"), "our_id": form.get("our_id"),
            "our_qualifier": form.get("our_qualifier"), "syntax_version": form.get("syntax_version"),
            "messages": form.getlist("messages"), "delivery_site_id": form.get("delivery_site_id") or None,
        })
        await service.create_partner(session, actor=principal.actor, fields=service.PartnerFields(
            **body.model_dump(exclude={"messages"}), messages=tuple(body.messages)))

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _page(request, principal, session, errors, dict(submitted), status)

    return await run_form_action(request, tx, action, done_url="/integrations/edi", show_again=show_again)


@router.get("/interchanges/{interchange_id}")
async def interchange_page(interchange_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    session = await tx.session()
    interchange = await service.get_interchange(session, interchange_id=interchange_id)
    partner = await service.get_partner(session, partner_id=interchange.partner_id)
    return render(request, "edi/interchange.html", {"interchange": interchange, "partner": partner},
                  principal=principal)


def install(app: FastAPI) -> None:
    """EDI pages, templates and the menu entry (organization admins)."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(edi_status=lambda value: STATUS_LABELS.get(value, value),
                               edi_direction=lambda value: DIRECTION_LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem("/integrations/edi", N_("EDI"), permission=Permission.INTEGRATION_MANAGE, order=80))
