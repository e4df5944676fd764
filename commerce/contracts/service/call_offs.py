"""Call-offs: orders drawn against a framework agreement, refused when any cap would be exceeded.

The draw-down is one conditional ``UPDATE … WHERE drawn + :amount <= cap`` per row, first on the contract
(its total value cap; the row lock also serializes call-offs on one contract) and then on each item in id
order (a fixed order, so concurrent call-offs never deadlock). PostgreSQL re-checks the WHERE clause after
waiting for a concurrent writer, so concurrent call-offs can never overshoot a cap together. If any row
refuses, the savepoint is rolled back: nothing was drawn.
"""

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.contracts.models import CallOff, Contract, ContractItem
from commerce.contracts.schemas import CallOffIn, ContractKind
from commerce.contracts.service.lifecycle import contract_items, get_contract
from commerce.order_port import OrderLineDraft, OrderPlacer, OrderSource
from tradeloom.audit import Actor, record_audit
from tradeloom.db import utcnow
from tradeloom.errors import Conflict, Invalid, NotFound
from tradeloom.outbox.service import emit
from tradeloom.sites.service import get_site

_CENTS = Decimal("0.0001")


class CapExceeded(Conflict):
    default_code = "call_off_over_cap"


def _check_callable(contract: Contract, actor: Actor) -> None:
    if contract.org_id != actor.org_id:
        raise NotFound("No such contract of yours to call off.", code="contract.not_found")
    if contract.kind != ContractKind.FRAMEWORK:
        raise Conflict("Only framework agreements are called off.", code="contract.not_a_framework")
    if contract.signed_terms_version is None:
        raise Conflict("The agreement is not effective: both parties must sign it first.",
                       code="contract.not_effective")
    today = utcnow().date()
    if today < contract.valid_from or (contract.valid_to is not None and today > contract.valid_to):
        raise Conflict("The agreement is not valid today.", code="contract.outside_validity")


async def _draw(session: AsyncSession, contract: Contract, draws: list[tuple[ContractItem, Decimal, Decimal]],
                total: Decimal) -> None:
    """Draw everything or nothing (savepoint), each row by one conditional UPDATE."""
    async with session.begin_nested():
        drawn = await session.scalar(
            update(Contract).where(
                Contract.id == contract.id,
                Contract.value_cap.is_(None) | (Contract.value_drawn + total <= Contract.value_cap))
            .values(value_drawn=Contract.value_drawn + total).returning(Contract.id)
            .execution_options(synchronize_session=False))
        if drawn is None:
            raise CapExceeded(f"This call-off ({total} {contract.currency}) would exceed the agreement's value cap.")
        for item, quantity, amount in sorted(draws, key=lambda draw: draw[0].id):
            drawn = await session.scalar(
                update(ContractItem).where(
                    ContractItem.id == item.id,
                    ContractItem.quantity_cap.is_(None)
                    | (ContractItem.quantity_drawn + quantity <= ContractItem.quantity_cap),
                    ContractItem.value_cap.is_(None) | (ContractItem.value_drawn + amount <= ContractItem.value_cap),
                ).values(quantity_drawn=ContractItem.quantity_drawn + quantity,
                         value_drawn=ContractItem.value_drawn + amount)
                .returning(ContractItem.id).execution_options(synchronize_session=False))
            if drawn is None:
                raise CapExceeded("This call-off would exceed the cap of a contract item.",
                                  errors=[{"material_id": str(item.material_id), "quantity": str(quantity)}])


async def place_call_off(
    session: AsyncSession, *, actor: Actor, contract_id: uuid.UUID, fields: CallOffIn,
    placer: OrderPlacer | None,
) -> CallOff:
    """Draw down the agreement and (when the orders module is wired) place the purchase order."""
    contract = await get_contract(session, contract_id=contract_id)
    _check_callable(contract, actor)
    await get_site(session, site_id=fields.delivery_site_id)
    items = {item.material_id: item for item in await contract_items(session, contract_id=contract.id)}
    draws, lines = [], []
    for index, line in enumerate(fields.lines):
        item = items.get(line.material_id)
        if item is None:
            raise Invalid("A line names a material the agreement does not cover.", code="contract.material_not_covered",
                          errors=[{"pointer": f"/lines/{index}/material_id"}])
        amount = (item.unit_price * line.quantity).quantize(_CENTS, rounding=ROUND_HALF_UP)
        draws.append((item, line.quantity, amount))
        lines.append({"material_id": str(item.material_id), "quantity": str(line.quantity), "unit": item.unit,
                      "unit_price": str(item.unit_price), "amount": str(amount)})
    if len({line.material_id for line in fields.lines}) != len(fields.lines):
        raise Invalid("A material appears on two lines.", code="contract.duplicate_line")
    total = sum((amount for _, _, amount in draws), Decimal(0))
    await _draw(session, contract, draws, total)
    # Call-offs are append-only for the app role: the order is placed first so the row is written once.
    call_off_id = uuid.uuid4()
    order_reference = None
    if placer is not None:
        order = await placer.create_order(
            session, actor=actor, supplier_org_id=contract.supplier_org_id, delivery_site_id=fields.delivery_site_id,
            currency=contract.currency, source=OrderSource("call_off", call_off_id),
            reference=f"{contract.number}/{str(call_off_id)[:8]}",
            lines=[OrderLineDraft(material_id=item.material_id, description="", quantity=quantity, unit=item.unit,
                                  unit_price=item.unit_price, required_date=None)
                   for item, quantity, _ in draws])
        order_reference = f"order:{order.id}"
    call_off = CallOff(id=call_off_id, org_id=actor.org_id, contract_id=contract.id,
                       supplier_org_id=contract.supplier_org_id, delivery_site_id=fields.delivery_site_id,
                       amount=total, lines=lines, order_reference=order_reference)
    session.add(call_off)
    await session.flush()
    payload = {"call_off_id": str(call_off.id), "contract_id": str(contract.id), "amount": str(total),
               "supplier_org_id": str(contract.supplier_org_id), "lines": lines}
    await emit(session, org_id=actor.org_id, topic="call_off.placed", payload=payload)
    await record_audit(session, actor=actor, action="call_off.placed", object_type="contract",
                       object_id=contract.id, details={"call_off_id": str(call_off.id), "amount": str(total)})
    return call_off


async def call_offs_of(session: AsyncSession, *, contract_id: uuid.UUID) -> list[CallOff]:
    """The call-offs of a contract the caller is party to, oldest first."""
    await get_contract(session, contract_id=contract_id)
    query = select(CallOff).where(CallOff.contract_id == contract_id).order_by(CallOff.created_at, CallOff.id)
    return list((await session.scalars(query)).all())
