"""Integration pages without a browser: webhook subscribe → test → delivery log → replay, refusals shown."""

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_member
from tests.tradeloom.test_pages import sign_in
from tradeloom.audit import AuditEntry
from tradeloom.settings import Settings


@pytest.fixture
def allow_receiver(client: AsyncClient, test_settings: Settings) -> None:
    app = client._transport.app  # type: ignore[attr-defined]
    app.state.settings = test_settings.model_copy(update={"webhook_allowed_hosts": ["erp.internal"]})


@pytest.mark.usefixtures("allow_receiver")
async def test_webhook_subscribe_test_and_replay(client: AsyncClient, session: AsyncSession) -> None:
    # given a signed-in org admin
    admin = await make_member(session)
    token = await sign_in(client, admin.user.email)
    # when they subscribe, send a test event and replay it
    subscribed = await client.post("/integrations/webhooks", data={
        "csrf_token": token, "url": "http://erp.internal/hooks", "event_types": "order.*, invoice.issued"})
    overview = await client.get("/integrations")
    subscription_path = re.search(r'href="(/integrations/webhooks/[0-9a-f-]+)"', overview.text)
    assert subscribed.status_code == 303 and subscription_path
    tested = await client.post(f"{subscription_path.group(1)}/test", data={"csrf_token": token})
    log = await client.get(subscription_path.group(1))
    replay_action = re.search(r'action="([^"]+/replay)"', log.text)
    assert tested.status_code == 303 and replay_action
    replayed = await client.post(replay_action.group(1), data={"csrf_token": token})
    # then the delivery log lists the ping and its replay
    log = await client.get(subscription_path.group(1))
    assert replayed.status_code == 303
    assert log.text.count("webhook.ping") == 2 and "(重放)" in log.text  # the pages default to Chinese
    assert "order.*" in log.text and "invoice.issued" in log.text
    assert "whsec_" not in log.text and "签名密钥" in log.text  # the secret only on request
    revealed = await client.post(f"{subscription_path.group(1)}/secret", data={"csrf_token": token})
    assert revealed.status_code == 200 and re.search(r"<code>whsec_[\w-]{43}</code>", revealed.text)
    shown = await session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "webhook.secret_revealed"))
    assert shown == 1


async def test_a_refused_form_says_why(client: AsyncClient, session: AsyncSession) -> None:
    # given
    admin = await make_member(session)
    token = await sign_in(client, admin.user.email)
    # when: a webhook to an internal address, and a connector with a made-up profile
    webhook = await client.post("/integrations/webhooks", data={"csrf_token": token, "url": "http://127.0.0.1/x"})
    connector = await client.post("/integrations/connectors", data={
        "csrf_token": token, "name": "x", "profile": "navision", "base_url": "https://erp.example.com",
        "mapping_yaml": "pulls: []"})
    # then
    assert webhook.status_code == 422 and "private network" in webhook.text
    assert connector.status_code == 422 and "No connector profile is called" in connector.text


async def test_the_hub_links_the_edi_and_punchout_settings(client: AsyncClient, session: AsyncSession) -> None:
    # given a signed-in org admin
    admin = await make_member(session)
    await sign_in(client, admin.user.email)
    # when
    hub = await client.get("/integrations")
    # then both pages are linked from the hub, and reachable
    assert 'href="/integrations/edi"' in hub.text and 'href="/integrations/punchout"' in hub.text
    assert "EDI 合作伙伴与交换" in hub.text  # Chinese by default
    for path in ("/integrations/edi", "/integrations/punchout"):
        assert (await client.get(path)).status_code == 200
