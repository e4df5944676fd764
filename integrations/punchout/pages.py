"""PunchOut pages: the shopping trip of a procurement-system user (start link, catalogue, cart, return) and
the credentials page in the organization's integration settings.

The shopper is not a Tradeloom member: the one-time start link sets a ``tl_punchout`` cookie holding the
session's browser token, which alone reaches the cart; forms carry a CSRF token derived from it.
"""

import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.punchout import service
from integrations.punchout.models import PunchOutSession
from integrations.punchout.schemas import CredentialIn
from integrations.sites import active_sites
from tradeloom.errors import Forbidden, Invalid, NotFound, TradeloomError
from tradeloom.identity.credentials import csrf_token_for, secret_matches_plain
from tradeloom.identity.roles import Permission
from tradeloom.identity.service import list_organizations
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

COOKIE = "tl_punchout"
PRICE_RULE_LABELS = {"contract_price_list": N_("Contract price"), "customer_price_list": N_("Customer price"),
                     "offer_price_break": N_("Offer price")}
shop = PrefixedRouter(prefix="/punchout", route_class=TransactionalRoute, include_in_schema=False)
settings_pages = PrefixedRouter(prefix="/integrations/punchout", route_class=TransactionalRoute,
                                include_in_schema=False)


class Shopper:
    """The punch-out session a browser holds, with the CSRF token of its forms."""

    def __init__(self, shopping: PunchOutSession, csrf: str) -> None:
        self.session = shopping
        self.csrf = csrf


async def current_shopper(request: Request, tx: Tx) -> Shopper:
    token = request.cookies.get(COOKIE, "")
    found = await service.find_session(await tx.session(), token) if token else None
    if found is None:
        raise Forbidden("No PunchOut session: start from your procurement system.", code="punchout_session_missing")
    session_id, org_id = found
    await tx.set_context(org_id=org_id, user_id=None)
    shopping = await service.shopping_session(await tx.session(), session_id=session_id)
    csrf = csrf_token_for(token, secret=request.app.state.signing_secret)
    if request.method == "POST":
        supplied = str((await request.form()).get("csrf_token") or "")
        if not secret_matches_plain(supplied, csrf):
            raise Forbidden("The form's CSRF token is missing or wrong; reload the page.", code="csrf_failed")
    return Shopper(shopping, csrf)


ShopperDep = Annotated[Shopper, Depends(current_shopper)]


@shop.get("/start/{token}")
async def start(token: str, request: Request, tx: Tx) -> Response:
    found = await service.find_session(await tx.session(), token)
    if found is None:
        raise NotFound("No such PunchOut link.", code="punchout_link_unknown")
    await tx.set_context(org_id=found[1], user_id=None)
    _, browser_token = await service.enter_session(await tx.session(), session_id=found[0])
    response = RedirectResponse("/punchout/shop", status_code=303)
    response.set_cookie(COOKIE, browser_token, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        max_age=int(service.SESSION_VALID_FOR.total_seconds()))
    return response


async def _shop_page(request: Request, shopper: Shopper, session: AsyncSession, query: str,
                     errors: list[str] | None = None, status: int = 200) -> Response:
    entries = await service.catalogue(session, shopping=shopper.session, query=query)
    return render(request, "punchout/shop.html", {"entries": entries, "query": query, "errors": errors or [],
                                                  "cart_lines": len(shopper.session.cart)},
                  csrf=shopper.csrf, status_code=status)


@shop.get("/shop")
async def shop_page(request: Request, shopper: ShopperDep, tx: Tx,
                    q: Annotated[str, Query(max_length=100)] = "") -> Response:
    return await _shop_page(request, shopper, await tx.session(), q)


MAX_QUANTITY = Decimal(10) ** 9


def _quantity(value: object) -> Decimal:
    try:
        quantity = Decimal(str(value))
    except InvalidOperation:
        quantity = Decimal(0)
    if not quantity.is_finite() or not Decimal(0) < quantity < MAX_QUANTITY:
        raise Invalid("Enter a positive quantity below one billion.", code="punchout_quantity_invalid")
    return quantity


@shop.post("/cart")
async def add_to_cart(request: Request, shopper: ShopperDep, tx: Tx) -> Response:
    async def action(session: AsyncSession, form: Any) -> None:
        await service.add_to_cart(session, shopping=shopper.session, material_code=str(form.get("material_code")),
                                  quantity=_quantity(form.get("quantity")), unit=str(form.get("unit")))

    session_id = shopper.session.id

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        shopper.session = await service.shopping_session(session, session_id=session_id)
        return await _shop_page(request, shopper, session, "", errors, status)

    return await run_form_action(request, tx, action, done_url="/punchout/cart", show_again=show_again)


@shop.get("/cart")
async def cart_page(request: Request, shopper: ShopperDep, tx: Tx) -> Response:
    lines = await service.priced_cart(await tx.session(), shopping=shopper.session)
    total = sum((line.quote.line_total for line in lines), Decimal(0))
    return render(request, "punchout/cart.html", {"lines": lines, "total": total, "errors": []}, csrf=shopper.csrf)


@shop.post("/cart/remove")
async def remove_line(request: Request, shopper: ShopperDep, tx: Tx) -> Response:
    index = str((await request.form()).get("index") or "")
    await service.remove_from_cart(await tx.session(), shopping=shopper.session,
                                   index=int(index) if index.isdigit() else -1)
    return RedirectResponse("/punchout/cart", status_code=303)


@shop.post("/return")
async def return_cart(request: Request, shopper: ShopperDep, tx: Tx) -> Response:
    """The cart goes back as a PunchOutOrderMessage, posted by the browser to the BrowserFormPost URL."""
    message = await service.return_cart(await tx.session(), shopping=shopper.session)
    response = render(request, "punchout/return.html", {"message": message,
                                                        "target": shopper.session.browser_form_post_url})
    response.delete_cookie(COOKIE)
    return response


# -- the credentials page ----------------------------------------------------------------------------------------

async def _credentials_page(request: Request, principal: Member, session: AsyncSession, *, errors: list[str],
                            created: tuple[str, str] | None = None, status: int = 200) -> Response:
    suppliers = [org for org in await list_organizations(session) if org.kind in ("supplier", "both")
                 and org.id != principal.org_id]
    return render(request, "punchout/credentials.html", {
        "credentials": await service.list_credentials(session), "suppliers": suppliers,
        "supplier_names": {org.id: org for org in suppliers}, "sites": await active_sites(session),
        "errors": errors, "created": created, "cxml_url": f"{request.base_url}api/v1/punchout/cxml",
    }, principal=principal, status_code=status)


@settings_pages.get("")
async def credentials_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    return await _credentials_page(request, principal, await tx.session(), errors=[])


@settings_pages.post("")
async def create_credential(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    form = await request.form()
    try:
        body = CredentialIn.model_validate({key: form.get(key) for key in
                                            ("name", "domain", "identity", "supplier_org_id", "delivery_site_id")})
        credential, secret = await service.create_credential(await tx.session(), actor=principal.actor,
                                                             **body.model_dump())
    except (ValidationError, TradeloomError) as exc:
        await tx.abandon()
        return await _credentials_page(request, principal, await tx.session(), errors=form_errors(exc),
                                       status=exc.status if isinstance(exc, TradeloomError) else 422)
    return await _credentials_page(request, principal, await tx.session(), errors=[],
                                   created=(f"{credential.domain}:{credential.identity}", secret))


@settings_pages.post("/{credential_id}/switch")
async def switch_credential(credential_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)

    async def action(session: AsyncSession, form: Any) -> None:
        await service.set_credential_active(session, actor=principal.actor, credential_id=credential_id,
                                            is_active=form.get("is_active") == "on")

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _credentials_page(request, principal, session, errors=errors, status=status)

    return await run_form_action(request, tx, action, done_url="/integrations/punchout", show_again=show_again)


def install(app: FastAPI) -> None:
    """PunchOut pages, templates and the menu entry (organization admins)."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(price_rule_label=lambda value: PRICE_RULE_LABELS.get(value, value))
    app.include_router(shop)
    app.include_router(settings_pages)
    add_nav_item(NavItem("/integrations/punchout", N_("PunchOut"), permission=Permission.INTEGRATION_MANAGE,
                         order=81))
