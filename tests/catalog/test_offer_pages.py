"""The supplier's offer pages over HTTP: edit terms and price breaks, version conflicts, stock per site."""

import re
import uuid
from dataclasses import dataclass

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import SupplierOffer
from tests.commerce_factories import make_site
from tests.factories import Member, make_member
from tests.materials_factories import make_material, make_offer
from tests.tradeloom.test_pages import sign_in
from tradeloom.identity.roles import OrgKind, Role

EMAIL = "north@offers.test"


@dataclass
class Shop:
    north: Member
    offer: SupplierOffer
    site_id: uuid.UUID
    other_offer: SupplierOffer


@pytest.fixture
async def shop(session: AsyncSession) -> Shop:
    """A supplier with one offer of the bolt (12.00 a box from 1) and a warehouse; another supplier's offer."""
    north = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER, email=EMAIL)
    south = await make_member(session, roles=(Role.SUPPLIER_SALES,), kind=OrgKind.SUPPLIER)
    bolt = await make_material(session, north)
    offer = await make_offer(session, north, bolt.id, supplier_part_number="N-BOLT-8")
    other = await make_offer(session, south, bolt.id, supplier_part_number="S-BOLT-8")
    return Shop(north, offer, await make_site(session, north, code="WH-SUZHOU"), other)


def _edit_form(page: str) -> dict[str, str]:
    """The edit form's fields as the browser would send them unchanged."""
    form = page[page.index('class="form two-col offer-terms"'):]
    form = form[:form.index("</form>")]
    fields = dict(re.findall(r'<input name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields |= dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    fields |= dict(re.findall(r'<select name="([^"]+)">.*?<option value="([^"]+)" selected', form))
    return fields


class TestEditOffer:
    async def test_new_price_breaks_and_terms_are_saved_as_a_new_version(self, client: AsyncClient, shop: Shop
                                                                          ) -> None:
        # given the supplier's edit page
        await sign_in(client, EMAIL)
        url = f"/catalog/offers/{shop.offer.id}"
        form = _edit_form((await client.get(url)).text)
        assert (form["version"], form["tier_qty_0"], form["tier_price_0"], form["incoterm"]) == ("1", "2", "12", "FCA")
        # when they add a price break, lengthen the lead time and pause the offer
        saved = await client.post(url, data=form | {"tier_qty_3": "200", "tier_price_3": "8.50",
                                                    "lead_time_days": "21", "status": "paused"})
        # then
        assert (saved.status_code, saved.headers.get("location")) == (303, url)
        again = _edit_form((await client.get(url)).text)
        assert (again["version"], again["tier_qty_3"], again["tier_price_3"], again["lead_time_days"],
                again["status"]) == ("2", "200", "8.5", "21", "paused")

    async def test_a_stale_form_is_refused_and_shows_the_saved_terms(self, client: AsyncClient, shop: Shop) -> None:
        # given two tabs opened on version 1, and the first one saved
        await sign_in(client, EMAIL)
        url = f"/catalog/offers/{shop.offer.id}"
        first = second = _edit_form((await client.get(url)).text)
        assert (await client.post(url, data=first | {"lead_time_days": "30"})).status_code == 303
        # when the second tab saves its own change
        refused = await client.post(url, data=second | {"moq": "5"})
        # then nothing of it is saved and the page shows the conflict with the saved terms
        assert refused.status_code == 412
        assert 'class="alert conflict"' in refused.text
        shown = _edit_form(refused.text)
        assert (shown["version"], shown["lead_time_days"], shown["moq"]) == ("2", "30", "2")

    async def test_bad_terms_are_shown_again_with_the_reason(self, client: AsyncClient, shop: Shop) -> None:
        await sign_in(client, EMAIL)
        url = f"/catalog/offers/{shop.offer.id}"
        form = _edit_form((await client.get(url)).text)
        refused = await client.post(url, data=form | {"tier_qty_0": "", "moq": "abc"})
        assert refused.status_code == 422
        assert 'role="alert"' in refused.text and _edit_form(refused.text)["moq"] == "abc"
        assert _edit_form((await client.get(url)).text)["version"] == "1"

    async def test_another_suppliers_offer_is_not_there(self, client: AsyncClient, shop: Shop) -> None:
        csrf = await sign_in(client, EMAIL)
        url = f"/catalog/offers/{shop.other_offer.id}"
        assert (await client.get(url)).status_code == 404
        refused = await client.post(url, data={"csrf_token": csrf, "version": "1", "lead_time_days": "1"})
        assert refused.status_code == 404


class TestStock:
    async def test_stock_per_site_is_set_and_shown_in_chinese(self, client: AsyncClient, shop: Shop) -> None:
        csrf = await sign_in(client, EMAIL)
        await client.get("/lang/zh_CN?next=/")
        url = f"/catalog/offers/{shop.offer.id}"
        saved = await client.post(f"{url}/stock/{shop.site_id}", data={"csrf_token": csrf, "quantity": "250"})
        negative = await client.post(f"{url}/stock/{shop.site_id}", data={"csrf_token": csrf, "quantity": "-1"})
        page = (await client.get(url)).text
        assert saved.status_code == 303
        assert negative.status_code == 422
        assert "可用库存" in page and 'value="250"' in page
        assert "250" in (await client.get("/catalog/offers")).text
