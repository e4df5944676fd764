"""The GS1-Conformant resolver: 307 to the default link, link types, linksets, and 400 for bad URIs."""

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.identifiers.digital_link import DigitalLink, DigitalLinkInvalid, parse_digital_link
from tests.factories import Member, make_member
from tradeloom.identity.roles import Role

BASE = "http://127.0.0.1:8000"
PAGE = f"{BASE}/t/88.118.8866/SN-0042"
EVENTS = f"{BASE}/api/v1/epcis/events?epc=https%3A%2F%2Fid.gs1.org%2F01%2F09506000134376%2F21%2FSN42"


@pytest.fixture
async def item(client: AsyncClient, session: AsyncSession) -> Member:
    """A published serialised item of GTIN 09506000134376, lot L1, serial SN42, with a product page."""
    supplier = await make_member(session, roles=(Role.SUPPLIER_SALES,))
    body = {"suffix": "SN-0042", "gtin": "9506000134376", "lot": "L1", "serial": "SN42", "published": True,
            "values": [{"index": 5, "type": "GS1_PIP", "value": "https://supplier.example/p/376"}]}
    assert (await client.post("/api/v1/identifiers", json=body, headers=supplier.headers)).status_code == 201
    return supplier


class TestParse:
    def test_reads_gtin_lot_and_serial_and_pads_the_gtin(self) -> None:
        link = parse_digital_link("https://example.com/01/9506000134376/10/L%2F1/21/SN42")
        assert link == DigitalLink("09506000134376", "L/1", "SN42")
        assert link.path == "/01/09506000134376/10/L%2F1/21/SN42"
        assert link.canonical_epc == "https://id.gs1.org/01/09506000134376/21/SN42"

    @pytest.mark.parametrize(("uri", "code"), [
        ("https://example.com/01/09506000134377/21/SN42", "gtin_invalid"),
        ("https://example.com/01/09506000134376/21/SN42/10/L1", "digital_link_invalid"),
        ("https://example.com/414/4012345000115", "primary_key_unsupported"),
        ("https://example.com/products/42", "digital_link_invalid"),
    ])
    def test_refuses_bad_uris(self, uri: str, code: str) -> None:
        with pytest.raises(DigitalLinkInvalid) as refused:
            parse_digital_link(uri)
        assert (refused.value.status, refused.value.code) == (400, code)


class TestResolver:
    async def test_redirects_to_the_traceability_page_by_default(self, client: AsyncClient, item: Member) -> None:
        response = await client.get("/01/09506000134376/10/L1/21/SN42")
        assert response.status_code == 307
        assert response.headers["location"] == PAGE
        assert response.headers["link"] == (f'<{BASE}/01/09506000134376/10/L1/21/SN42?linkType=linkset>; '
                                            'rel="linkset"; type="application/linkset+json"')

    async def test_answers_head_and_cross_origin_requests(self, client: AsyncClient, item: Member) -> None:
        response = await client.head("/01/09506000134376/10/L1/21/SN42")
        assert (response.status_code, response.headers["location"]) == (307, PAGE)
        assert response.headers["access-control-allow-origin"] == "*"

    @pytest.mark.parametrize(("link_type", "target"), [
        ("gs1:traceability", PAGE), ("gs1:epcis", EVENTS), ("https://gs1.org/voc/pip", "https://supplier.example/p/376"),
        ("gs1:pip", "https://supplier.example/p/376"), ("gs1:recipeInfo", PAGE),
    ])
    async def test_honours_the_link_type(self, client: AsyncClient, item: Member, link_type: str, target: str) -> None:
        response = await client.get("/01/09506000134376/10/L1/21/SN42", params={"linkType": link_type})
        assert (response.status_code, response.headers["location"]) == (307, target)

    async def test_link_type_all_answers_the_linkset(self, client: AsyncClient, item: Member) -> None:
        response = await client.get("/01/09506000134376/10/L1/21/SN42", params={"linkType": "all"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/linkset+json"
        page = {"href": PAGE, "title": "Traceability / 追溯信息", "type": "text/html"}
        assert response.json() == {"linkset": [{
            "anchor": f"{BASE}/01/09506000134376/10/L1/21/SN42",
            "https://gs1.org/voc/defaultLink": [page], "https://gs1.org/voc/traceability": [page],
            "https://gs1.org/voc/epcis": [{"href": EVENTS, "title": "EPCIS events", "type": "application/json"}],
            "https://gs1.org/voc/pip": [{"href": "https://supplier.example/p/376", "title": "Product information",
                                         "type": "text/html"}],
        }]}

    async def test_a_bad_check_digit_is_a_400_problem(self, client: AsyncClient, item: Member) -> None:
        response = await client.get("/01/09506000134377/21/SN42")
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "gtin_invalid"
        assert response.json()["detail"] == (
            "Invalid GTIN: Invalid GTIN check digit for '09506000134377': Expected 6, got 7.")

    async def test_an_unknown_item_is_404(self, client: AsyncClient, item: Member) -> None:
        response = await client.get("/01/09506000134376/10/L1/21/OTHER")
        assert (response.status_code, response.json()["code"]) == (404, "digital_link_unknown")

    async def test_an_unregistered_serial_falls_back_to_its_published_lot(
        self, client: AsyncClient, item: Member
    ) -> None:
        lot = {"suffix": "LOT-L1", "gtin": "09506000134376", "lot": "L1", "published": True}
        assert (await client.post("/api/v1/identifiers", json=lot, headers=item.headers)).status_code == 201
        exact = await client.get("/01/09506000134376/10/L1/21/SN42")
        fallback = await client.get("/01/09506000134376/10/L1/21/OTHER")
        assert exact.headers["location"] == PAGE
        assert fallback.headers["location"] == f"{BASE}/t/88.118.8866/LOT-L1"

    async def test_publishes_its_description_file(self, client: AsyncClient) -> None:
        response = await client.get("/.well-known/gs1resolver")
        assert response.json() == {
            "name": "Tradeloom GS1 resolver", "resolverRoot": BASE, "supportedPrimaryKeys": ["01"],
            "linkTypeDefaultCanBeLinkset": False, "supportedLinkType": [{"namespace": "https://gs1.org/voc/",
                                                                          "prefix": "gs1:"}],
        }
