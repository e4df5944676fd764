"""Supplier portal: the supplier's offers, a new offer, editing an offer's terms and its stock per site.

Edits carry the version the form was rendered with (If-Match in the API): when someone else saved the
offer in between, nothing changes and the page says so, showing the saved terms to start again from.
"""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from catalog.models import SupplierOffer
from catalog.page_kit import chinese, plain
from catalog.schemas.common import Incoterm
from catalog.schemas.offers import OfferCreate, OfferStatus, OfferUpdate, StockIn
from catalog.service import offers
from catalog.service.materials import find_material_by_code, get_material, materials_by_id
from tradeloom.auth import Principal
from tradeloom.identity.roles import Permission
from tradeloom.sites.service import list_sites
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import ShowAgain, form_fields, form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.pages import Member
from tradeloom.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
TIER_ROWS = 3  # blank price-break rows a form offers beyond the offer's own
MAX_SITES = 100
TERMS = ("supplier_part_number", "currency", "order_unit", "moq", "pack_size", "lead_time_days", "incoterm",
         "valid_from", "valid_to")
STATUS_LABELS = {OfferStatus.ACTIVE: N_("Active"), OfferStatus.PAUSED: N_("Paused"),
                 OfferStatus.WITHDRAWN: N_("Withdrawn")}


def _tiers(form: dict[str, str], rows: int) -> list[dict[str, str]]:
    """The filled price-break rows of a form."""
    return [{"min_quantity": form.get(f"tier_qty_{row}", ""), "unit_price": form.get(f"tier_price_{row}", "")}
            for row in range(rows) if form.get(f"tier_qty_{row}", "").strip()]


def _terms(form: dict[str, str], names: tuple[str, ...] = TERMS) -> dict[str, str]:
    """The filled term fields (an empty one is left out: the model's default, or unchanged on an edit)."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


def _shown(request: Request, principal: Principal, template: str, context: dict[str, Any],
           status_code: int = 200) -> Response:
    return render(request, template, context | {"zh": chinese(request), "plain": plain,
                                                "status_labels": STATUS_LABELS}, principal=principal,
                  status_code=status_code)


# The list and a new offer

async def _offers_page(request: Request, principal: Principal, session: AsyncSession, form: dict[str, str],
                       errors: list[str], status_code: int = 200) -> Response:
    found, _ = await offers.list_own_offers(session, actor=principal.actor, limit=200, cursor=None)
    materials = await materials_by_id(session, material_ids={offer.material_id for offer in found})
    return _shown(request, principal, "catalog/offers.html", {
        "views": await offers.offer_views(session, found), "materials": materials, "form": form, "errors": errors,
        "tier_rows": range(TIER_ROWS), "incoterms": list(Incoterm),
    }, status_code)


@router.get("/catalog/offers")
async def offers_page(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.OFFERS_MANAGE)
    return await _offers_page(request, principal, await tx.session(), {}, [])


@router.post("/catalog/offers")
async def create_offer_from_form(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.OFFERS_MANAGE)
    form = await form_fields(request)

    async def create(session: AsyncSession, _: FormData) -> None:
        material = (await find_material_by_code(session, code=form.get("material_code", "").strip())).material
        fields = OfferCreate.model_validate({"material_id": str(material.id), "price_tiers": _tiers(form, TIER_ROWS)}
                                            | _terms(form))
        await offers.create_offer(session, actor=principal.actor, fields=fields)

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await _offers_page(request, principal, session, form, errors, status)

    return await run_form_action(request, tx, create, done_url="/catalog/offers", show_again=show_again)


# One offer: its terms and its stock

def _form_of(offer: SupplierOffer, tiers: list[Any]) -> dict[str, str]:
    """The stored offer as form values (what the edit form starts from)."""
    form = {name: "" if getattr(offer, name) is None else str(getattr(offer, name)) for name in TERMS}
    form |= {"moq": plain(offer.moq), "pack_size": plain(offer.pack_size), "status": offer.status,
             "version": str(offer.version)}
    for row, tier in enumerate(tiers):
        form |= {f"tier_qty_{row}": plain(tier.min_quantity), f"tier_price_{row}": plain(tier.unit_price)}
    return form


async def _offer_page(request: Request, principal: Principal, session: AsyncSession, offer_id: uuid.UUID, *,
                      form: dict[str, str] | None = None, errors: list[str] | None = None, conflict: bool = False,
                      status_code: int = 200) -> Response:
    offer = await offers.own_offer(session, actor=principal.actor, offer_id=offer_id)
    (view,) = await offers.offer_views(session, [offer])
    sites, _ = await list_sites(session, limit=MAX_SITES, cursor=None, active_only=True)
    stock = {entry.site_id: entry for entry in view.stock}
    return _shown(request, principal, "catalog/offer.html", {
        "offer": offer, "material": await get_material(session, material_id=offer.material_id),
        "form": form or _form_of(offer, view.price_tiers), "errors": errors or [], "conflict": conflict,
        "tier_rows": range(len(view.price_tiers) + TIER_ROWS), "incoterms": list(Incoterm),
        "statuses": [OfferStatus.ACTIVE, OfferStatus.PAUSED], "sites": sites, "stock": stock,
    }, status_code)


@router.get("/catalog/offers/{offer_id}")
async def offer_page(request: Request, principal: Member, tx: Tx, offer_id: uuid.UUID) -> Response:
    principal.require(Permission.OFFERS_MANAGE)
    return await _offer_page(request, principal, await tx.session(), offer_id)


def _show_offer_again(request: Request, principal: Principal, offer_id: uuid.UUID, form: dict[str, str]
                      ) -> ShowAgain:
    """A refused edit: the user's values with the reasons, or, after a version conflict, the saved terms."""

    async def show_again(session: AsyncSession, errors: list[str], status: int) -> Response:
        if status == 412:
            return await _offer_page(request, principal, session, offer_id, conflict=True, status_code=status)
        return await _offer_page(request, principal, session, offer_id, form=form, errors=errors, status_code=status)

    return show_again


@router.post("/catalog/offers/{offer_id}")
async def update_offer_from_form(request: Request, principal: Member, tx: Tx, offer_id: uuid.UUID) -> Response:
    principal.require(Permission.OFFERS_MANAGE)
    form = await form_fields(request)

    async def update(session: AsyncSession, _: FormData) -> None:
        rows = sum(1 for key in form if key.startswith("tier_qty_"))
        # An emptied "valid until" makes the offer open-ended; every other term must stay filled.
        changes = OfferUpdate.model_validate({"valid_to": None} | _terms(form, (*TERMS, "status"))
                                             | {"price_tiers": _tiers(form, rows)})
        await offers.update_offer(session, actor=principal.actor, offer_id=offer_id,
                                  expected_version=form_version(form.get("version")), changes=changes)

    return await run_form_action(request, tx, update, done_url=f"/catalog/offers/{offer_id}",
                                 show_again=_show_offer_again(request, principal, offer_id, form))


@router.post("/catalog/offers/{offer_id}/stock/{site_id}")
async def set_stock_from_form(request: Request, principal: Member, tx: Tx, offer_id: uuid.UUID,
                              site_id: uuid.UUID) -> Response:
    principal.require(Permission.OFFERS_MANAGE)
    form = await form_fields(request)

    async def set_stock(session: AsyncSession, _: FormData) -> None:
        quantity = StockIn.model_validate({"quantity": form.get("quantity", "").strip()}).quantity
        await offers.set_stock(session, actor=principal.actor, offer_id=offer_id, site_id=site_id, quantity=quantity)

    return await run_form_action(request, tx, set_stock, done_url=f"/catalog/offers/{offer_id}",
                                 show_again=_show_offer_again(request, principal, offer_id, {}))
