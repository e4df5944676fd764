"""Small settlement operations the API and pages share: payment instructions and match tolerances."""

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.invoice_models import MatchTolerance
from commerce.settlement.invoices import load_invoice
from commerce.settlement.providers import PaymentRequest, ProviderResult, get_provider
from tradeloom.audit import Actor, record_audit

DEFAULT_METHOD = "bank_transfer"


async def payment_instructions(session: AsyncSession, *, actor: Actor, invoice_id: uuid.UUID,
                               method: str = DEFAULT_METHOD) -> tuple[str, ProviderResult]:
    """What the buyer needs to pay the invoice with ``method`` (bank transfer: account and reference)."""
    invoice = await load_invoice(session, invoice_id)
    result = await get_provider(method).create(PaymentRequest(
        payment_id=invoice.id, payer_org_id=invoice.buyer_org_id, payee_org_id=invoice.supplier_org_id,
        amount=invoice.gross_total, currency=invoice.currency, reference=invoice.payment_reference,
        idempotency_key=f"invoice:{invoice.id}", invoice_id=invoice.id))
    return method, result


async def set_tolerances(session: AsyncSession, *, actor: Actor, quantity_pct: Decimal, price_pct: Decimal) -> None:
    """The buyer's three-way match tolerances, for invoices issued from now on."""
    row = await session.scalar(select(MatchTolerance).where(MatchTolerance.org_id == actor.org_id))
    if row is None:
        session.add(MatchTolerance(org_id=actor.org_id, quantity_pct=quantity_pct, price_pct=price_pct))
    else:
        row.quantity_pct, row.price_pct = quantity_pct, price_pct
    await session.flush()
    await record_audit(session, actor=actor, action="settlement.tolerances_set", object_type="organization",
                       object_id=actor.org_id, details={"quantity_pct": f"{quantity_pct:f}",
                                                        "price_pct": f"{price_pct:f}"})
