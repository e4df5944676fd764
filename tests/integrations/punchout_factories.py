"""PunchOut test setup: a buyer with a contract price list and a credential, and cXML documents as a
procurement system (Ariba, Coupa) writes them."""

import datetime as dt
import html
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.materials_factories import make_price_list
from tests.orders_factories import OrderWorld, make_world

IDENTITY = "AN01000000123"


@dataclass(frozen=True)
class PunchOutWorld:
    world: OrderWorld
    credential: dict[str, Any]

    @property
    def secret(self) -> str:
        return str(self.credential["shared_secret"])


def credential_body(world: OrderWorld, identity: str = IDENTITY) -> dict[str, Any]:
    return {"name": "SAP Ariba", "domain": "NetworkID", "identity": identity,
            "supplier_org_id": str(world.supplier.org.id), "delivery_site_id": str(world.site_id)}


async def make_punchout_world(session: AsyncSession, client: AsyncClient,
                              identity: str = IDENTITY) -> PunchOutWorld:
    """The order world plus a contract price list (0.10 CNY a bolt) and an Ariba credential."""
    world = await make_world(session)
    await make_price_list(session, world.supplier, world.buyer.org.id, world.bolt.id, kind="contract")
    response = await client.post("/api/v1/punchout/credentials", json=credential_body(world, identity),
                                 headers=world.admin.headers)
    assert response.status_code == 201, response.text
    return PunchOutWorld(world, response.json())


def envelope(request: str, *, secret: str, identity: str = IDENTITY, payload_id: str | None = None) -> str:
    """A cXML document around one request, credentials as a procurement system sends them."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
<cXML payloadID="{payload_id or uuid.uuid4()}@ariba.example" timestamp="{dt.datetime.now(dt.UTC).isoformat()}">
  <Header>
    <From><Credential domain="NetworkID"><Identity>{identity}</Identity></Credential></From>
    <To><Credential domain="NetworkID"><Identity>TRADELOOM</Identity></Credential></To>
    <Sender><Credential domain="NetworkID"><Identity>{identity}</Identity>
      <SharedSecret>{secret}</SharedSecret></Credential><UserAgent>Ariba Buyer</UserAgent></Sender>
  </Header>
  <Request deploymentMode="test">{request}</Request>
</cXML>"""


def setup_request(browser_form_post: str) -> str:
    return f"""<PunchOutSetupRequest operation="create">
      <BuyerCookie>cookie-7f3a</BuyerCookie>
      <Extrinsic name="UserEmail">buyer@example.test</Extrinsic>
      <BrowserFormPost><URL>{browser_form_post}</URL></BrowserFormPost>
      <SupplierSetup><URL>https://tradeloom.example/punchout</URL></SupplierSetup>
    </PunchOutSetupRequest>"""


def order_request(order_id: str, items: list[tuple[str, str, str, str]], total: str) -> str:
    """``items``: (SupplierPartID, quantity, unit, unit price)."""
    lines = "".join(f"""<ItemOut quantity="{quantity}" lineNumber="{number}">
        <ItemID><SupplierPartID>{part}</SupplierPartID></ItemID>
        <ItemDetail><UnitPrice><Money currency="CNY">{price}</Money></UnitPrice>
          <Description xml:lang="en">bolt</Description><UnitOfMeasure>{unit}</UnitOfMeasure></ItemDetail>
      </ItemOut>""" for number, (part, quantity, unit, price) in enumerate(items, start=1))
    return f"""<OrderRequest><OrderRequestHeader orderID="{order_id}" orderDate="2026-11-25" type="new">
      <Total><Money currency="CNY">{total}</Money></Total>
      <ShipTo><Address addressID="PLANT-1"><Name xml:lang="en">Plant one</Name></Address></ShipTo>
    </OrderRequestHeader>{lines}</OrderRequest>"""


async def post_cxml(client: AsyncClient, document: str) -> Any:
    return await client.post("/api/v1/punchout/cxml", content=document.encode(),
                             headers={"Content-Type": "text/xml"})


def status_of(cxml_text: str) -> tuple[str, str]:
    match = re.search(r'<Status code="(\d+)" text="[^"]*">([^<]*)</Status>', cxml_text)
    assert match, cxml_text
    return match.group(1), html.unescape(match.group(2))


def start_path(cxml_text: str) -> str:
    match = re.search(r"<StartPage><URL>([^<]+)</URL></StartPage>", cxml_text)
    assert match, cxml_text
    return urlsplit(match.group(1)).path
