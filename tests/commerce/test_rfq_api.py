"""RFQs over the API: invitations and matching, Q&A, sealed quotations with revisions, comparison, award."""

from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import OfferStock, SupplierOffer
from tests.commerce_factories import Market, close_bidding, make_market, make_site, quotation_body, rfq_body
from tests.factories import Member
from tests.materials_factories import as_owner
from tradeloom.outbox.models import OutboxEvent


async def _issue(client: AsyncClient, market: Market, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/rfqs", json=rfq_body(market, **overrides), headers=market.buyer.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _quote(client: AsyncClient, rfq: dict[str, Any], supplier: Member, **kwargs: Any) -> Any:
    return await client.post(f"/api/v1/rfqs/{rfq['id']}/quotations", json=quotation_body(rfq, **kwargs),
                             headers=supplier.headers)


class TestSealedQuotations:
    async def test_buyer_sees_nothing_before_the_deadline_and_the_matrix_after(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        # given two invited suppliers quoting, one per box and one per piece
        market = await make_market(session)
        rfq = await _issue(client, market)
        first, second = market.suppliers[:2]
        quoted = await _quote(client, rfq, first, price="9.50", unit="BX")
        assert quoted.status_code == 201, quoted.text
        assert (await _quote(client, rfq, second, price="0.10", unit="H87")).status_code == 201
        # when the buyer looks before the deadline, then everything is sealed
        sealed = await client.get(f"/api/v1/rfqs/{rfq['id']}/comparison", headers=market.buyer.headers)
        assert (sealed.status_code, sealed.json()["code"]) == (409, "rfq_sealed")
        hidden = await client.get(f"/api/v1/quotations/{quoted.json()['id']}", headers=market.buyer.headers)
        assert hidden.status_code == 404
        # and another supplier never sees a competitor's quotation
        assert (await client.get(f"/api/v1/quotations/{quoted.json()['id']}",
                                 headers=second.headers)).status_code == 404
        # when the deadline has passed
        await close_bidding(session, rfq["id"])
        matrix = (await client.get(f"/api/v1/rfqs/{rfq['id']}/comparison", headers=market.buyer.headers)).json()
        # then prices are per piece (the buyer's unit), cheapest first, with landed totals (freight 120 each)
        cells = matrix["lines"][0]["cells"]
        assert [(c["supplier_org_id"], c["quoted_unit"], c["unit_price"], c["line_total"]) for c in cells] == [
            (str(first.org.id), "BX", "0.095", "475"), (str(second.org.id), "H87", "0.1", "500")]
        assert [(s["supplier_org_id"], s["landed_total"]) for s in matrix["suppliers"]] == [
            (str(first.org.id), "595"), (str(second.org.id), "620")]
        # and quoting is closed
        late = await _quote(client, rfq, first)
        assert (late.status_code, late.json()["code"]) == (409, "rfq_closed")

    async def test_revisions_are_kept_and_the_latest_counts(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        supplier = market.suppliers[0]
        await _quote(client, rfq, supplier, price="9.50")
        await _quote(client, rfq, supplier, price="9.20")
        mine = (await client.get(f"/api/v1/rfqs/{rfq['id']}/quotations/mine", headers=supplier.headers)).json()
        assert [(q["revision"], q["status"], q["lines"][0]["price_tiers"][0]["unit_price"]) for q in mine] == [
            (2, "submitted", "9.2"), (1, "superseded", "9.5")]
        await close_bidding(session, rfq["id"])
        matrix = (await client.get(f"/api/v1/rfqs/{rfq['id']}/comparison", headers=market.buyer.headers)).json()
        assert [c["line_total"] for c in matrix["lines"][0]["cells"]] == ["460"]

    async def test_uninvited_supplier_cannot_see_or_quote(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        outsider = market.suppliers[2]
        assert (await client.get(f"/api/v1/rfqs/{rfq['id']}", headers=outsider.headers)).status_code == 404
        refused = await _quote(client, rfq, outsider)
        assert (refused.status_code, refused.json()["code"]) == (404, "rfq.not_found")
        assert (await client.get("/api/v1/rfqs/inbox", headers=outsider.headers)).json() == []

    async def test_quotation_in_another_currency_is_refused(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        refused = await _quote(client, rfq, market.suppliers[0], currency="USD")
        assert (refused.status_code, refused.json()["code"]) == (422, "rfq.wrong_currency")


class TestMatchingAndInvitations:
    async def test_suppliers_are_ranked_by_fit_then_price_and_top_n_invited(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        # given an RFQ with nobody invited yet
        market = await make_market(session)
        rfq = await _issue(client, market, supplier_org_ids=[])
        # when the buyer asks for matches
        matches = (await client.get(f"/api/v1/rfqs/{rfq['id']}/matches", headers=market.buyer.headers)).json()
        # then both offering suppliers fit the material; 50 boxes cost 450 at the first's break, 550 at the second's
        assert [(s["supplier_org_id"], s["fit"], s["line_total"], s["lead_time_days"])
                for s in matches[0]["suppliers"]] == [
            (str(market.suppliers[0].org.id), "material", "450", 5),
            (str(market.suppliers[1].org.id), "material", "550", 2)]
        # and the ranking is explained: neither has a history, so both get the neutral rating (3 stars, 10 points)
        assert [(s["match_score"], s["parts"], s["rating"], s["rating_score"], s["rated"])
                for s in matches[0]["suppliers"]] == [
            ("74", {"fit": "25", "price": "35", "rating": "10", "lead_time": "4", "capacity": "0"}, "3", "50", False),
            ("73.6", {"fit": "25", "price": "28.6", "rating": "10", "lead_time": "10", "capacity": "0"}, "3", "50",
             False)]
        # when the top one is invited in one action
        invited = await client.post(f"/api/v1/rfqs/{rfq['id']}/invitations/top", json={"top": 1},
                                    headers=market.buyer.headers)
        assert [(i["supplier_org_id"], i["source"]) for i in invited.json()] == [
            (str(market.suppliers[0].org.id), "matched")]
        inbox = (await client.get("/api/v1/rfqs/inbox", headers=market.suppliers[0].headers)).json()
        assert [r["id"] for r in inbox] == [rfq["id"]]

    async def test_stock_for_the_whole_quantity_lifts_a_dearer_supplier(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        # given the dearer supplier holding the 50 boxes the line needs in its warehouse
        market = await make_market(session)
        stocked = market.suppliers[1]
        offer_id = await session.scalar(select(SupplierOffer.id).where(SupplierOffer.org_id == stocked.org.id))
        session.add(OfferStock(offer_id=offer_id, site_id=await make_site(session, stocked, "WH-1"),
                               org_id=stocked.org.id, quantity=Decimal(50)))
        await session.flush()
        rfq = await _issue(client, market, supplier_org_ids=[])
        # when the buyer asks for matches
        matches = (await client.get(f"/api/v1/rfqs/{rfq['id']}/matches", headers=market.buyer.headers)).json()
        # then its full capacity (10 points) puts it first: 25 + 28.6 + 10 + 10 + 10 against 74
        assert [(s["supplier_org_id"], s["match_score"], s["parts"]["capacity"]) for s in matches[0]["suppliers"]] == [
            (str(stocked.org.id), "83.6", "10"), (str(market.suppliers[0].org.id), "74", "0")]

    async def test_open_rfq_reaches_every_supplier_with_offers_in_the_class(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market, visibility="open", supplier_org_ids=[])
        invitations = (await client.get(f"/api/v1/rfqs/{rfq['id']}/invitations", headers=market.buyer.headers)).json()
        assert sorted(i["supplier_org_id"] for i in invitations) == sorted(
            str(s.org.id) for s in market.suppliers[:2])
        assert (await client.get("/api/v1/rfqs/inbox", headers=market.suppliers[2].headers)).json() == []


class TestQuestions:
    async def test_every_invitee_reads_questions_without_the_asker(
        self, client: AsyncClient, session: AsyncSession
    ) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        asker, other = market.suppliers[:2]
        asked = await client.post(f"/api/v1/rfqs/{rfq['id']}/questions", json={"question": "Zinc plated?"},
                                  headers=asker.headers)
        assert asked.status_code == 201
        await client.post(f"/api/v1/rfqs/{rfq['id']}/questions/{asked.json()['id']}/answer",
                          json={"answer": "No, plain SS304."}, headers=market.buyer.headers)
        seen = (await client.get(f"/api/v1/rfqs/{rfq['id']}/questions", headers=other.headers)).json()
        assert [(q["question"], q["answer"], q["asked_by_you"]) for q in seen] == [
            ("Zinc plated?", "No, plain SS304.", False)]
        assert "asked_by_org_id" not in seen[0]
        mine = (await client.get(f"/api/v1/rfqs/{rfq['id']}/questions", headers=asker.headers)).json()
        assert mine[0]["asked_by_you"] is True
        await as_owner(session)
        topics = (await session.scalars(select(OutboxEvent.topic).where(
            OutboxEvent.topic == "rfq.question_answered"))).all()
        assert topics == ["rfq.question_answered"]


class TestAwardOverHttp:
    async def test_award_to_orders_places_a_draft_order(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        quoted = (await _quote(client, rfq, market.suppliers[0])).json()
        await close_bidding(session, rfq["id"])
        body = {"outcome": "order", "lines": [{"quotation_line_id": quoted["lines"][0]["id"], "quantity": "5000"}]}
        awarded = await client.post(f"/api/v1/rfqs/{rfq['id']}/awards", json=body,
                                    headers=market.buyer.headers | {"If-Match": '"1"'})
        assert awarded.status_code == 201, awarded.text
        (award,) = awarded.json()
        order_id = award["reference"].removeprefix("order:")
        order = (await client.get(f"/api/v1/orders/{order_id}", headers=market.buyer.headers)).json()
        assert (order["status"], order["source"]) == ("draft", "award")

    async def test_award_to_a_contract_and_replayed_key(self, client: AsyncClient, session: AsyncSession) -> None:
        market = await make_market(session)
        rfq = await _issue(client, market)
        quoted = (await _quote(client, rfq, market.suppliers[0])).json()
        await close_bidding(session, rfq["id"])
        body = {"outcome": "contract", "lines": [{"quotation_line_id": quoted["lines"][0]["id"], "quantity": "5000"}]}
        headers = market.buyer.headers | {"If-Match": '"1"', "Idempotency-Key": "award-rfq-0001"}
        awarded = await client.post(f"/api/v1/rfqs/{rfq['id']}/awards", json=body, headers=headers)
        assert awarded.status_code == 201, awarded.text
        (award,) = awarded.json()
        assert (award["outcome"], award["unit_price"], award["reference"].split(":")[0]) == (
            "contract", "0.095", "contract")
        replay = await client.post(f"/api/v1/rfqs/{rfq['id']}/awards", json=body, headers=headers)
        assert replay.json() == awarded.json() and replay.headers["idempotent-replayed"] == "true"
        contract_id = award["reference"].split(":")[1]
        contract = (await client.get(f"/api/v1/contracts/{contract_id}", headers=market.suppliers[0].headers)).json()
        assert (contract["kind"], contract["status"], contract["items"][0]["unit_price"],
                contract["items"][0]["quantity_cap"]) == ("spot", "awaiting_signatures", "0.095", "5000")
        again = await client.post(f"/api/v1/rfqs/{rfq['id']}/awards", json=body,
                                  headers=market.buyer.headers | {"If-Match": '"1"'})
        assert (again.status_code, again.json()["code"]) == (412, "version_conflict")
