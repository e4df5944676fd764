"""Card-payment test support: the local Stripe stand-in's credentials, signed webhook deliveries, API helpers."""

import json
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement import journal
from commerce.settlement.journal import AccountKind
from commerce.settlement.stripe.local_server import sign_payload
from tests.factories import Member, make_member
from tests.materials_factories import act_as, as_owner
from tradeloom.identity.roles import OrgKind, Role

STRIPE_KEY = "sk_test_tradeloom_local"
WEBHOOK_SECRET = "whsec_tradeloom_local_test"
PAYMENTS_API = "/api/v1/stripe/payments"


def signed_delivery(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, dict[str, str]]:
    """A webhook body and headers exactly as Stripe sends them."""
    body = json.dumps(event).encode()
    return body, {"Content-Type": "application/json", "Stripe-Signature": sign_payload(body, secret)}


async def parties(session: AsyncSession) -> tuple[Member, Member]:
    buyer = await make_member(session, roles=(Role.FINANCE,), kind=OrgKind.BUYER)
    supplier = await make_member(session, roles=(Role.FINANCE,), kind=OrgKind.SUPPLIER)
    return buyer, supplier


async def open_payment(client: AsyncClient, buyer: Member, supplier: Member, **overrides: Any) -> dict[str, Any]:
    body = {"supplier_org_id": str(supplier.org.id), "amount": "1130.00", "currency": "CNY",
            "reference": "INV-2026-0001"} | overrides
    created = await client.post(PAYMENTS_API, json=body, headers=buyer.headers)
    assert created.status_code == 201, created.text
    return created.json()


async def pay(client: AsyncClient, buyer: Member, payment: dict[str, Any], method: str = "pm_card_visa") -> Any:
    return await client.post(f"{PAYMENTS_API}/{payment['id']}/confirm", json={"payment_method": method},
                             headers=buyer.headers)


async def count(session: AsyncSession, model: Any, *conditions: Any) -> int:
    """Rows of ``model`` matching, counted as the database owner (every tenant's)."""
    await as_owner(session)
    return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def balance(session: AsyncSession, member: Member, account: AccountKind, currency: str = "CNY") -> Decimal:
    """The member's organization's journal balance (debits − credits) of one account, read as that organization."""
    await act_as(session, member)
    return await journal.balance(session, org_id=member.org.id, account=account, currency=currency)
