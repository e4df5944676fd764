"""The only module that talks to Stripe: the official ``stripe`` library, pointed at ``TRADELOOM_STRIPE_API_BASE``.

It turns Stripe objects into plain ``IntentState`` / ``RefundState`` values and Stripe's errors into ours, so
the service never sees a Stripe type. Every creating call carries an idempotency key derived from our own
ids: a retried request (ours or the library's network retry) never makes a second intent or refund.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import stripe

from tradeloom.errors import Conflict, Invalid, NotFound, TradeloomError, Unavailable
from tradeloom.settings import Settings

# ISO 4217 currencies Stripe takes in whole units; every other one we trade in has two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})


def minor_units(amount: Decimal, currency: str) -> int:
    """Stripe's integer amount (e.g. fen for CNY); an amount finer than the currency allows is refused."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise Invalid(f"{amount} {currency} has more decimals than the currency allows.", code="amount_precision")
    return int(scaled)


def major_units(amount: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return Decimal(amount).scaleb(-exponent)


@dataclass(frozen=True)
class IntentState:
    """What Stripe says about a PaymentIntent, in our units."""

    intent_id: str
    status: str
    currency: str
    amount_received: Decimal
    metadata: dict[str, str]
    error_message: str | None = None


@dataclass(frozen=True)
class RefundState:
    refund_id: str
    intent_id: str
    amount: Decimal
    status: str
    reason: str | None


def intent_state(intent: dict[str, Any]) -> IntentState:
    """From a PaymentIntent as a dict (the library object's ``to_dict()`` or a webhook event's ``data.object``)."""
    currency = str(intent["currency"]).upper()
    error = intent.get("last_payment_error")
    return IntentState(intent_id=intent["id"], status=intent["status"], currency=currency,
                       amount_received=major_units(int(intent.get("amount_received") or 0), currency),
                       metadata=dict(intent.get("metadata") or {}),
                       error_message=error.get("message") if error else None)


def refund_state(refund: dict[str, Any]) -> RefundState:
    currency = str(refund["currency"]).upper()
    return RefundState(refund_id=refund["id"], intent_id=refund["payment_intent"], status=refund["status"],
                       amount=major_units(int(refund["amount"]), currency), reason=refund.get("reason"))


class StripeRefused(TradeloomError):
    """Stripe declined the request (card declined, wrong state): 402 like Stripe's own answer."""

    status, default_code, title = 402, "stripe_refused", "Payment refused"


def _ours(error: stripe.StripeError) -> TradeloomError:
    message = error.user_message or "Stripe refused the request."
    if isinstance(error, stripe.CardError):
        return StripeRefused(message, code=f"stripe_{error.code or 'card_error'}")
    if isinstance(error, stripe.InvalidRequestError):
        if error.http_status == 404:
            return NotFound(message, code="stripe_resource_missing")
        return Conflict(message, code=f"stripe_{error.code or 'invalid_request'}")
    return Unavailable("Stripe cannot be reached or failed; nothing was changed here. Try again.",
                       code="stripe_unavailable")


class StripeGateway:
    """PaymentIntents and refunds through the official library (async calls over httpx)."""

    def __init__(self, *, api_key: str, api_base: str) -> None:
        self._client = stripe.StripeClient(api_key, base_addresses={"api": api_base}, max_network_retries=2,
                                           http_client=stripe.HTTPXClient())

    @classmethod
    def from_settings(cls, settings: Settings) -> "StripeGateway":
        if settings.stripe_secret_key is None:
            raise Unavailable("Card payments are not configured (TRADELOOM_STRIPE_SECRET_KEY).",
                              code="stripe_not_configured")
        return cls(api_key=settings.stripe_secret_key.get_secret_value(), api_base=settings.stripe_api_base)

    async def create_intent(self, *, payment_key: str, amount: Decimal, currency: str, capture_method: str,
                            description: str, metadata: dict[str, str],
                            payment_method: str | None = None) -> IntentState:
        params: dict[str, Any] = {"amount": minor_units(amount, currency), "currency": currency.lower(),
                                  "capture_method": capture_method, "description": description,
                                  "metadata": metadata, "payment_method_types": ["card"]}
        if payment_method:
            params["payment_method"] = payment_method
        return await self._intent_call(self._client.v1.payment_intents.create_async, params,
                                       {"idempotency_key": f"{payment_key}-create"})

    async def confirm(self, intent_id: str, *, payment_method: str | None = None) -> IntentState:
        """Confirm with ``payment_method``, or with the one attached when the intent was created."""
        params = {"payment_method": payment_method} if payment_method else {}
        return await self._intent_call(self._client.v1.payment_intents.confirm_async, intent_id, params)

    async def capture(self, intent_id: str, *, amount: Decimal | None = None, currency: str = "") -> IntentState:
        """Capture all that was authorised, or ``amount`` of it."""
        params = {"amount_to_capture": minor_units(amount, currency)} if amount is not None else {}
        return await self._intent_call(self._client.v1.payment_intents.capture_async, intent_id, params)

    async def retrieve(self, intent_id: str) -> IntentState:
        return await self._intent_call(self._client.v1.payment_intents.retrieve_async, intent_id)

    async def refund(self, intent_id: str, *, refund_key: str, amount: Decimal, currency: str,
                     metadata: dict[str, str]) -> RefundState:
        params: Any = {"payment_intent": intent_id, "amount": minor_units(amount, currency),
                                  "metadata": metadata}
        try:
            refund = await self._client.v1.refunds.create_async(params, {"idempotency_key": refund_key})
        except stripe.StripeError as error:
            raise _ours(error) from error
        return refund_state(refund.to_dict())

    async def _intent_call(self, call: Any, *args: Any) -> IntentState:
        try:
            return intent_state((await call(*args)).to_dict())
        except stripe.StripeError as error:
            raise _ours(error) from error
