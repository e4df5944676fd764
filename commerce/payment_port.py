"""The port through which settlement gates an order's steps on its payment terms (prepayment before shipping,
and before production when the terms say so).

``commerce.orders`` sits below ``commerce.settlement`` (settlement reads orders), so orders cannot ask
settlement directly. Orders call ``check_step`` before every simple step (production, shipping — also when
``commerce.logistics`` dispatches a shipment); the composition root installs settlement's gate with
``install_gate``. Without a gate (an app built without settlement) nothing is refused.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class OrderFacts:
    """What a gate needs to know of the order (plain data, never the ORM row)."""

    id: uuid.UUID
    number: str
    buyer_org_id: uuid.UUID
    supplier_org_id: uuid.UUID
    currency: str
    gross_total: Decimal
    payment_terms: str


class PaymentGate(Protocol):
    async def check_step(self, session: AsyncSession, *, order: OrderFacts, action: str) -> None:
        """Raise a ``TradeloomError`` (409) when the terms do not let ``action`` happen yet."""


_gates: list[PaymentGate] = []


def install_gate(gate: PaymentGate) -> None:
    """Set the gate (the composition root does, once per process; a second install replaces the first)."""
    _gates[:] = [gate]


async def check_step(session: AsyncSession, *, order: OrderFacts, action: str) -> None:
    """Ask the installed gate whether the order may take ``action`` now (no gate: yes)."""
    for gate in _gates:
        await gate.check_step(session, order=order, action=action)
