"""One interface for every way of paying: bank transfer (the default), Stripe, … .

Providers receive plain dataclasses, never ORM objects or sessions, and return what happened; the settlement
service turns results into journal entries, outbox events and evidence. A provider is registered once at
start-up (``register_provider``) and looked up by name (``get_provider``).
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from tradeloom.errors import Invalid


class PaymentStatus(StrEnum):
    PENDING = "pending"  # waiting for the money (a bank transfer not yet on a statement)
    REQUIRES_ACTION = "requires_action"  # the payer must act (confirm, 3-D Secure …)
    AUTHORIZED = "authorized"  # funds reserved, to be captured
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


@dataclass(frozen=True)
class PaymentRequest:
    """What is to be paid: by whom, to whom, how much, and the reference the money must carry."""

    payment_id: uuid.UUID
    payer_org_id: uuid.UUID
    payee_org_id: uuid.UUID
    amount: Decimal
    currency: str
    reference: str
    idempotency_key: str
    invoice_id: uuid.UUID | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderResult:
    """The provider's answer: its own id for the payment, the status, and instructions for the payer."""

    provider_ref: str
    status: PaymentStatus
    amount: Decimal
    currency: str
    instructions: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    """create → (confirm) → (capture) → succeeded; refund gives money back. Every call must be idempotent for
    the same payment (providers pass ``PaymentRequest.idempotency_key`` on to the remote side)."""

    name: str

    async def create(self, request: PaymentRequest) -> ProviderResult: ...

    async def confirm(self, provider_ref: str) -> ProviderResult: ...

    async def capture(self, provider_ref: str, amount: Decimal | None = None) -> ProviderResult: ...

    async def refund(self, provider_ref: str, amount: Decimal, *, idempotency_key: str) -> ProviderResult: ...


@dataclass(frozen=True)
class BankAccountDetails:
    """Where a bank transfer goes (the platform's collection account, or the payee's own)."""

    account_name: str
    bank_name: str
    account_number: str


class BankTransferProvider:
    """对公转账: nothing happens remotely; the payer is told where to send the money and which reference to
    quote, and the payment succeeds when an imported bank statement line matches it (reconciliation)."""

    name = "bank_transfer"

    def __init__(self, account: BankAccountDetails) -> None:
        self.account = account

    async def create(self, request: PaymentRequest) -> ProviderResult:
        return ProviderResult(
            provider_ref=request.reference, status=PaymentStatus.PENDING, amount=request.amount,
            currency=request.currency,
            instructions={"account_name": self.account.account_name, "bank_name": self.account.bank_name,
                          "account_number": self.account.account_number, "reference": request.reference,
                          "amount": f"{request.amount:.2f}", "currency": request.currency})

    async def confirm(self, provider_ref: str) -> ProviderResult:
        return self._waiting(provider_ref)

    async def capture(self, provider_ref: str, amount: Decimal | None = None) -> ProviderResult:
        return self._waiting(provider_ref, amount)

    async def refund(self, provider_ref: str, amount: Decimal, *, idempotency_key: str) -> ProviderResult:
        # A refund by bank transfer is an outgoing transfer made by a person; it is booked when it is made.
        return ProviderResult(provider_ref=provider_ref, status=PaymentStatus.PENDING, amount=amount, currency="")

    @staticmethod
    def _waiting(provider_ref: str, amount: Decimal | None = None) -> ProviderResult:
        return ProviderResult(provider_ref=provider_ref, status=PaymentStatus.PENDING,
                              amount=amount or Decimal(0), currency="")


_PROVIDERS: dict[str, PaymentProvider] = {}


def register_provider(provider: PaymentProvider) -> None:
    """Make ``provider`` available under its ``name`` (a later registration under the same name replaces it)."""
    _PROVIDERS[provider.name] = provider


def get_provider(name: str) -> PaymentProvider:
    """The provider registered under ``name``; an unknown method is the caller's mistake (422)."""
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise Invalid(f"Unknown payment method {name!r}.", code="payment_method_unknown") from None


def provider_names() -> list[str]:
    """The payment methods on offer, in registration order."""
    return list(_PROVIDERS)


PLATFORM_COLLECTION_ACCOUNT = BankAccountDetails(
    account_name="Tradeloom Escrow Collection", bank_name="China Merchants Bank Shanghai Branch",
    account_number="6214 8301 0000 0000")
register_provider(BankTransferProvider(PLATFORM_COLLECTION_ACCOUNT))
