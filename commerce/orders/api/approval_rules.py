"""The buyer's approval rules and cost-centre budgets (organization admins)."""

import uuid
from typing import Annotated

from fastapi import Depends, Response

from commerce.orders.api.orders import PREFIX
from commerce.orders.schemas import ApprovalRuleIn, ApprovalRuleOut, BudgetIn, BudgetOut
from commerce.orders.service import budgets
from tradeloom.auth import Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix=PREFIX, tags=["approval rules"], route_class=TransactionalRoute)
OrgAdmin = Annotated[Principal, Depends(requires(Permission.ORG_MANAGE))]


@router.get("/approval-rules")
async def list_rules(principal: OrgAdmin, session: DbSession) -> list[ApprovalRuleOut]:
    """Your organization's approval thresholds."""
    return [ApprovalRuleOut.model_validate(rule) for rule in await budgets.list_rules(session)]


@router.post("/approval-rules", status_code=201)
async def create_rule(
    body: ApprovalRuleIn, principal: OrgAdmin, session: DbSession, response: Response, _key: Idempotent
) -> ApprovalRuleOut:
    """Add a threshold: from ``min_amount`` (gross, in ``currency``) orders need ``approvals_required`` approvers."""
    rule = await budgets.create_rule(session, actor=principal.actor, fields=body)
    set_etag(response, rule.version)
    return ApprovalRuleOut.model_validate(rule)


@router.put("/approval-rules/{rule_id}")
async def update_rule(
    rule_id: uuid.UUID, body: ApprovalRuleIn, principal: OrgAdmin, session: DbSession, response: Response,
    expected_version: ExpectedVersion,
) -> ApprovalRuleOut:
    """Replace a rule (If-Match); orders already submitted keep their approvals."""
    rule = await budgets.update_rule(session, actor=principal.actor, rule_id=rule_id,
                                     expected_version=expected_version, fields=body)
    set_etag(response, rule.version)
    return ApprovalRuleOut.model_validate(rule)


@router.get("/budgets")
async def list_budgets(principal: OrgAdmin, session: DbSession) -> list[BudgetOut]:
    """Cost-centre budgets with what submitted orders have committed."""
    return [BudgetOut.model_validate(budget) for budget in await budgets.list_budgets(session)]


@router.post("/budgets", status_code=201)
async def create_budget(body: BudgetIn, principal: OrgAdmin, session: DbSession, _key: Idempotent) -> BudgetOut:
    """Give a cost centre a budget in one currency; submitting an order reserves its gross total."""
    return BudgetOut.model_validate(await budgets.create_budget(session, actor=principal.actor, fields=body))
