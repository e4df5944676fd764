"""The buyer's approval rules and cost-centre budgets (org admins edit them; submission applies them)."""

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import ApprovalRule, CostCentreBudget, PurchaseOrder
from commerce.orders.rules import RuleView
from commerce.orders.schemas import ApprovalRuleIn, BudgetIn
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.driver_statements import DriverStatement
from tradeloom.errors import Conflict, Invalid, NotFound


async def create_rule(session: AsyncSession, *, actor: Actor, fields: ApprovalRuleIn) -> ApprovalRule:
    """Add an approval threshold for the actor's organization."""
    rule = ApprovalRule(org_id=actor.org_id, **fields.model_dump())
    session.add(rule)
    await session.flush()
    await record_audit(session, actor=actor, action="approval_rule.created", object_type="approval_rule",
                       object_id=rule.id, details=fields.model_dump(mode="json"))
    return rule


async def update_rule(
    session: AsyncSession, *, actor: Actor, rule_id: uuid.UUID, expected_version: int, fields: ApprovalRuleIn
) -> ApprovalRule:
    """Replace a rule's fields (If-Match); orders already submitted keep the approvals they were given."""
    rule = await session.get(ApprovalRule, rule_id)
    if rule is None:
        raise NotFound("No such approval rule.", code="approval_rule_not_found")
    check_version(rule.version, expected_version)
    for name, value in fields.model_dump().items():
        setattr(rule, name, value)
    await session.flush()
    await record_audit(session, actor=actor, action="approval_rule.updated", object_type="approval_rule",
                       object_id=rule.id, details=fields.model_dump(mode="json"))
    return rule


async def list_rules(session: AsyncSession) -> list[ApprovalRule]:
    """The caller's organization's rules (RLS), by currency and threshold."""
    query = select(ApprovalRule).order_by(ApprovalRule.currency, ApprovalRule.min_amount, ApprovalRule.name)
    return list((await session.scalars(query)).all())


_ACTIVE_RULES = DriverStatement(select(  # every submission runs it
    ApprovalRule.currency, ApprovalRule.min_amount, ApprovalRule.class_prefix, ApprovalRule.approvals_required
).where(
    ApprovalRule.org_id == bindparam("org_id"), ApprovalRule.currency == bindparam("currency"), ApprovalRule.is_active
))


async def active_rules(session: AsyncSession, *, org_id: uuid.UUID, currency: str) -> Sequence[RuleView]:
    return [RuleView(*row) for row in await _ACTIVE_RULES.rows(session, {"org_id": org_id, "currency": currency})]


async def create_budget(session: AsyncSession, *, actor: Actor, fields: BudgetIn) -> CostCentreBudget:
    """Set up a cost centre's budget in one currency."""
    budget = CostCentreBudget(org_id=actor.org_id, committed=Decimal(0), **fields.model_dump())
    session.add(budget)
    await flush_or_conflict(session, f"Cost centre {fields.code} already has a {fields.currency} budget.",
                            "budget_exists")
    await record_audit(session, actor=actor, action="budget.created", object_type="cost_centre_budget",
                       object_id=budget.id, details=fields.model_dump(mode="json"))
    return budget


async def list_budgets(session: AsyncSession) -> list[CostCentreBudget]:
    query = select(CostCentreBudget).order_by(CostCentreBudget.code, CostCentreBudget.currency)
    return list((await session.scalars(query)).all())


async def reserve_budget(session: AsyncSession, order: PurchaseOrder) -> None:
    """Commit the order's gross total to its cost centre in one conditional UPDATE (no read-modify-write)."""
    if order.cost_centre is None:
        return
    matches = (CostCentreBudget.org_id == order.buyer_org_id, CostCentreBudget.code == order.cost_centre,
               CostCentreBudget.currency == order.currency)
    reserved = await session.scalar(
        update(CostCentreBudget)
        .where(*matches, CostCentreBudget.committed + order.gross_total <= CostCentreBudget.amount)
        .values(committed=CostCentreBudget.committed + order.gross_total, version=CostCentreBudget.version + 1)
        .returning(CostCentreBudget.id)
    )
    if reserved is None:
        if await session.scalar(select(CostCentreBudget.id).where(*matches)) is None:
            raise Invalid(f"Cost centre {order.cost_centre} has no {order.currency} budget.",
                          code="order_cost_centre_unknown")
        raise Conflict(f"Order {order.number} would exceed the budget of cost centre {order.cost_centre}.",
                       code="order_budget_exceeded")
    order.budget_reserved = order.gross_total


async def release_budget(session: AsyncSession, order: PurchaseOrder) -> None:
    """Give the order's reservation back (cancelled, rejected, or sent back to draft) — through a database
    function, because a supplier's rejection releases the buyer's budget, which RLS keeps from the supplier."""
    if not order.budget_reserved:
        return
    await session.execute(select(func.tl_release_order_budget(order.id)))
    order.budget_reserved = Decimal(0)
