"""Stripe's webhook events: verified with the library's signature check, stored once, then applied.

An event is stored with ``INSERT … ON CONFLICT DO NOTHING`` on Stripe's event id before it is processed: a
replayed event finds its row and is answered without doing anything again. Processing goes through the same
``apply_intent``/``apply_refund`` as our own calls, which post only what is new, so the order events arrive
in does not matter either.
"""

import json
import uuid
from typing import Any

import stripe
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.settlement.stripe import service
from commerce.settlement.stripe.gateway import intent_state, refund_state
from commerce.settlement.stripe.models import StripeEvent
from tradeloom.db import utcnow
from tradeloom.errors import TradeloomError


class BadSignature(TradeloomError):
    status, default_code, title = 400, "stripe_signature_invalid", "Bad webhook signature"


def verified_event(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event if ``Stripe-Signature`` proves Stripe sent this body (recently), else 400."""
    try:
        stripe.Webhook.construct_event(payload, signature or "", secret)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise BadSignature("The Stripe-Signature header does not match this body.") from error
    event = json.loads(payload)
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
            and isinstance(event.get("data"), dict) and isinstance(event["data"].get("object"), dict)):
        raise BadSignature("The signed body is not a Stripe event.", code="stripe_event_malformed")
    return event


def event_owner(event: dict[str, Any]) -> tuple[uuid.UUID | None, str | None]:
    """The paying organization and the PaymentIntent an event is about, from the metadata we gave Stripe."""
    obj = event.get("data", {}).get("object", {})
    intent_id = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    try:
        org_id = uuid.UUID(str((obj.get("metadata") or {}).get("tradeloom_org_id")))
    except ValueError:
        org_id = None
    return org_id, intent_id


async def receive_event(session: AsyncSession, event: dict[str, Any], *, org_id: uuid.UUID,
                        intent_id: str | None) -> str:
    """Store the event (once) and apply it; returns ``duplicate``, ``applied``, ``ignored`` or ``unknown_payment``."""
    stored = await session.scalar(
        insert(StripeEvent).values(event_id=event["id"], org_id=org_id, type=event["type"],
                                   payment_intent_id=intent_id, payload=event, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"]).returning(StripeEvent.event_id)
    )
    if stored is None:
        return "duplicate"
    outcome = await _apply(session, event, intent_id)
    await session.execute(update(StripeEvent).where(StripeEvent.event_id == event["id"])
                          .values(outcome=outcome, processed_at=utcnow()))
    return outcome


async def _apply(session: AsyncSession, event: dict[str, Any], intent_id: str | None) -> str:
    payment = await service.payment_by_intent(session, intent_id) if intent_id else None
    if payment is None:
        return "unknown_payment"
    obj = event["data"]["object"]
    if obj.get("object") == "payment_intent":
        await service.apply_intent(session, payment, intent_state(obj))
        return "applied"
    if obj.get("object") == "refund" and obj.get("status") == "succeeded":
        await service.apply_refund(session, payment, refund_state(obj))
        return "applied"
    return "ignored"
