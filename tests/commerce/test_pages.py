"""RFQ and contract pages over HTTP (forms posted with a bearer token, so without CSRF): from the wizard to a
signed contract and its printable document in both languages and as PDF."""

import datetime as dt
import re

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.commerce_factories import close_bidding, make_market
from tradeloom.db import utcnow

ZH = {"Accept-Language": "zh-CN"}


async def test_rfq_to_signed_contract_through_the_pages(client: AsyncClient, session: AsyncSession) -> None:
    # given a buyer and two suppliers offering the bolt
    market = await make_market(session)
    buyer, supplier = market.buyer.headers | ZH, market.suppliers[0].headers | ZH
    wizard = await client.get("/rfqs/new", headers=buyer)
    assert wizard.status_code == 200 and "新建询价" in wizard.text
    # when the buyer publishes an RFQ with the wizard
    deadline = (utcnow() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    created = await client.post("/rfqs/new", headers=buyer, data={
        "title": "螺栓采购", "currency": "CNY", "site": str(market.plant_id), "deadline": deadline,
        "visibility": "invited",
        "supplier": [str(market.suppliers[0].org.id)], "line-0-material_code": market.bolt.code,
        "line-0-quantity": "5000", "line-0-unit": "H87", "line-0-required_date": "2027-01-15"})
    assert created.status_code == 303, created.text
    rfq_url = created.headers["location"]
    # and the supplier finds it in its inbox and quotes per box
    assert rfq_url in (await client.get("/rfqs", headers=supplier)).text
    page = (await client.get(rfq_url, headers=supplier)).text
    line_id = re.search(r'name="price-([0-9a-f-]+)"', page).group(1)  # type: ignore[union-attr]
    quoted = await client.post(f"{rfq_url}/quotations", headers=supplier, data={
        f"price-{line_id}": "9.50", f"unit-{line_id}": "BX", f"lead-{line_id}": "6", "freight": "100",
        "valid_until": "2027-01-31"})
    assert quoted.status_code == 303, quoted.text
    sealed = (await client.get(rfq_url, headers=buyer)).text
    assert "截止时间前报价保持密封。" in sealed
    # and the buyer's matches explain the ranking, rating included (no history yet: neutral 3 stars)
    assert 'class="rating">★ 3</a> <span class="muted">(暂无履约记录)</span>' in sealed
    assert re.search(r"匹配度 [\d.]+/100：目录匹配 25 · 价格 [\d.]+ · 评级 10 · 交期 [\d.]+ · 产能 [\d.]+", sealed)
    # then after the deadline the buyer sees the matrix and awards a spot contract
    await close_bidding(session, rfq_url.rsplit("/", 1)[1])
    matrix = (await client.get(rfq_url, headers=buyer)).text
    assert "0.095 / H87" in matrix and "575 CNY" in matrix
    quotation_line = re.search(r'name="award-([0-9a-f-]+)"', matrix).group(1)  # type: ignore[union-attr]
    version = re.search(r'name="version" value="(\d+)"', matrix).group(1)  # type: ignore[union-attr]
    awarded = await client.post(f"{rfq_url}/award", headers=buyer, data={
        "outcome": "contract", "version": version, f"award-{quotation_line}": "5000"})
    assert awarded.status_code == 303, awarded.text
    contract_url = re.search(r'href="(/contracts/[0-9a-f-]+)"', (await client.get(rfq_url, headers=buyer)).text)
    assert contract_url is not None
    # when both parties sign on the contract page
    for headers in (buyer, supplier):
        contract_page = (await client.get(contract_url.group(1), headers=headers)).text
        version = re.search(r'name="version" value="(\d+)"', contract_page).group(1)  # type: ignore[union-attr]
        signed = await client.post(f"{contract_url.group(1)}/sign", headers=headers, data={"version": version})
        assert signed.status_code == 303, signed.text
    # then it is effective, and its document prints in Chinese, English and as PDF
    assert "已生效" in (await client.get(contract_url.group(1), headers=buyer)).text
    chinese = await client.get(f"{contract_url.group(1)}/document?lang=zh_CN", headers=buyer)
    english = await client.get(f"{contract_url.group(1)}/document?lang=en", headers=buyer)
    assert "现货合同" in chinese.text and "Spot contract" in english.text
    pdf = await client.get(f"{contract_url.group(1)}/document.pdf?lang=zh_CN", headers=buyer)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


async def test_a_refused_form_says_why_and_changes_nothing(client: AsyncClient, session: AsyncSession) -> None:
    market = await make_market(session)
    refused = await client.post("/rfqs/new", headers=market.buyer.headers | ZH, data={
        "title": "过期询价", "currency": "CNY", "site": str(market.plant_id), "deadline": "2020-01-01T00:00",
        "visibility": "invited", "line-0-material_code": market.bolt.code, "line-0-quantity": "1",
        "line-0-unit": "H87", "line-0-required_date": "2027-01-15"})
    assert refused.status_code == 422
    assert "The deadline must be in the future." in refused.text
    assert "过期询价" not in (await client.get("/rfqs", headers=market.buyer.headers)).text
