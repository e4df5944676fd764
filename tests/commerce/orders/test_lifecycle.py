"""Order steps: approval rules and budgets, supplier confirmation, fulfilment, cancellation, change orders."""

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.orders.models import OrderEvent, OrderLine, PurchaseOrder
from commerce.orders.rules import SimpleStep
from commerce.orders.schemas import BudgetIn, LineChange
from commerce.orders.service import budgets, changes, queries, transitions
from commerce.orders.service.transitions import LineConfirmationDraft
from ledger.models import EvidenceRecord
from tests.factories import Member
from tests.materials_factories import act_as, as_owner, owner_actor
from tests.orders_factories import OrderWorld, add_rule, award_line, place_order
from tradeloom.audit import AuditEntry
from tradeloom.errors import TradeloomError
from tradeloom.outbox.models import OutboxEvent


async def _as(session: AsyncSession, member: Member) -> dict[str, object]:
    await act_as(session, member)
    return {"actor": owner_actor(member)}


async def _submitted(session: AsyncSession, world: OrderWorld, *lines: object,
                     cost_centre: str | None = None) -> PurchaseOrder:
    order = await place_order(session, world, *lines, cost_centre=cost_centre)  # type: ignore[arg-type]
    return await transitions.submit_order(session, **await _as(session, world.buyer), order_id=order.id,
                                          expected_version=order.version)


async def _sent(session: AsyncSession, world: OrderWorld) -> PurchaseOrder:
    return await _submitted(session, world)  # no approval rule: straight to the supplier


async def _refused(call: object) -> TradeloomError:
    with pytest.raises(TradeloomError) as refused:
        await call  # type: ignore[misc]
    return refused.value


class TestApproval:
    async def test_no_rule_sends_the_order_at_once(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        assert (order.status, order.approvals_required) == ("sent", 0)

    async def test_above_fifty_thousand_two_approvers_are_needed(self, session: AsyncSession,
                                                                 world: OrderWorld) -> None:
        # given rules: from 0 one approver, from 50,000 CNY two
        await add_rule(session, world, min_amount="0", approvals=1)
        await add_rule(session, world, min_amount="50000", approvals=2)
        # when an order of 56,500 CNY gross is submitted
        order = await _submitted(session, world, award_line(world, "5000", "10"))
        assert (order.status, order.approvals_required, order.gross_total) == ("submitted", 2, Decimal("56500.00"))
        # then the first approval keeps it waiting and the second sends it
        order = await transitions.approve_order(session, **await _as(session, world.approver), order_id=order.id,
                                                expected_version=order.version)
        assert (order.status, order.approvals_given) == ("submitted", 1)
        order = await transitions.approve_order(session, **await _as(session, world.second_approver),
                                                order_id=order.id, expected_version=order.version)
        assert (order.status, order.approvals_given) == ("sent", 2)

    async def test_class_rule_applies_only_to_its_classes(self, session: AsyncSession, world: OrderWorld) -> None:
        await add_rule(session, world, min_amount="0", approvals=1, class_prefix="20")
        order = await _submitted(session, world)
        assert order.status == "sent"

    async def test_own_order_cannot_be_approved(self, session: AsyncSession, world: OrderWorld) -> None:
        # given a member who both buys and approves places an order above the threshold
        await add_rule(session, world, min_amount="0", approvals=1)
        order = await _submitted(session, world)
        buyer_as_approver = owner_actor(world.buyer)
        # when they approve it themselves
        refused = await _refused(transitions.approve_order(session, actor=buyer_as_approver, order_id=order.id,
                                                           expected_version=order.version))
        # then it is refused and still waits
        assert (refused.status, refused.code, order.status) == (403, "order_own_approval", "submitted")

    async def test_the_same_approver_counts_once(self, session: AsyncSession, world: OrderWorld) -> None:
        await add_rule(session, world, min_amount="0", approvals=2)
        order = await _submitted(session, world)
        order = await transitions.approve_order(session, **await _as(session, world.approver), order_id=order.id,
                                                expected_version=order.version)
        refused = await _refused(transitions.approve_order(session, **await _as(session, world.approver),
                                                           order_id=order.id, expected_version=order.version))
        assert (refused.status, refused.code) == (409, "order_already_approved_by_you")

    async def test_supplier_cannot_approve(self, session: AsyncSession, world: OrderWorld) -> None:
        await add_rule(session, world, min_amount="0", approvals=1)
        order = await _submitted(session, world)
        refused = await _refused(transitions.approve_order(session, **await _as(session, world.supplier),
                                                           order_id=order.id, expected_version=order.version))
        assert (refused.status, refused.code) == (403, "order_wrong_party")

    async def test_refused_approval_returns_to_draft(self, session: AsyncSession, world: OrderWorld) -> None:
        await add_rule(session, world, min_amount="0", approvals=1)
        order = await _submitted(session, world)
        order = await transitions.reject_approval(session, **await _as(session, world.approver), order_id=order.id,
                                                  expected_version=order.version, note="wrong supplier")
        assert order.status == "draft"


class TestBudget:
    async def test_submission_reserves_and_cancellation_releases(self, session: AsyncSession,
                                                                 world: OrderWorld) -> None:
        await act_as(session, world.admin)
        budget = await budgets.create_budget(session, actor=owner_actor(world.admin),
                                             fields=BudgetIn(code="CC-100", currency="CNY", amount=Decimal(100)))
        order = await _submitted(session, world, award_line(world, "2", "40"), cost_centre="CC-100")
        await session.refresh(budget)
        assert budget.committed == Decimal("90.40")
        refused = await _refused(_submitted(session, world, award_line(world, "1", "10"), cost_centre="CC-100"))
        assert (refused.status, refused.code) == (409, "order_budget_exceeded")
        await transitions.cancel_order(session, **await _as(session, world.buyer), order_id=order.id,
                                       expected_version=order.version)
        await session.refresh(budget)
        assert budget.committed == Decimal(0)

    async def test_supplier_rejection_releases_the_buyers_budget(self, session: AsyncSession,
                                                                 world: OrderWorld) -> None:
        # given an order that reserved 90.40 of the buyer's cost centre
        await act_as(session, world.admin)
        budget = await budgets.create_budget(session, actor=owner_actor(world.admin),
                                             fields=BudgetIn(code="CC-200", currency="CNY", amount=Decimal(100)))
        order = await _submitted(session, world, award_line(world, "2", "40"), cost_centre="CC-200")
        # when the supplier (who cannot write the buyer's budgets) rejects it
        await transitions.reject_order(session, **await _as(session, world.supplier), order_id=order.id,
                                       expected_version=order.version)
        # then the reservation is back
        await as_owner(session)
        await session.refresh(budget)
        assert (budget.committed, order.budget_reserved) == (Decimal(0), Decimal(0))


class TestSupplierSteps:
    async def test_partial_confirmation_changes_amounts_not_the_ordered_quantity(
        self, session: AsyncSession, world: OrderWorld
    ) -> None:
        order = await _sent(session, world)
        (line,) = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
        order = await transitions.confirm_order(
            session, **await _as(session, world.supplier), order_id=order.id, expected_version=order.version,
            lines=[LineConfirmationDraft(line.id, Decimal(2))])
        await session.refresh(line)
        assert (order.status, order.confirmation) == ("confirmed", "partial")
        assert (line.quantity, line.confirmed_quantity, line.net, order.gross_total) == (
            Decimal(3), Decimal(2), Decimal("24.69"), Decimal("27.90"))

    async def test_more_than_ordered_or_a_foreign_line_is_refused(self, session: AsyncSession,
                                                                  world: OrderWorld) -> None:
        order = await _sent(session, world)
        (line,) = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
        for draft in (LineConfirmationDraft(line.id, Decimal(4)), LineConfirmationDraft(order.id, Decimal(1))):
            refused = await _refused(transitions.confirm_order(
                session, **await _as(session, world.supplier), order_id=order.id, expected_version=order.version,
                lines=[draft]))
            assert (refused.status, refused.code) == (422, "order_confirmation_invalid")

    async def test_another_supplier_does_not_see_the_order(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        refused = await _refused(transitions.confirm_order(
            session, **await _as(session, world.other_supplier), order_id=order.id, expected_version=order.version))
        assert (refused.status, refused.code) == (404, "order_not_found")
        found, _ = await queries.list_orders(session, filters=queries.OrderFilter(), limit=10, cursor=None)
        assert found == []

    async def test_confirming_a_draft_is_not_a_step(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await place_order(session, world)
        refused = await _refused(transitions.confirm_order(
            session, **await _as(session, world.supplier), order_id=order.id, expected_version=order.version))
        assert (refused.status, refused.code) == (409, "order_transition_not_allowed")

    async def test_stale_version_is_refused(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        refused = await _refused(transitions.confirm_order(
            session, **await _as(session, world.supplier), order_id=order.id, expected_version=order.version - 1))
        assert (refused.status, refused.code) == (412, "version_conflict")

    async def test_whole_life_with_timeline_and_evidence(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        order = await transitions.confirm_order(session, **await _as(session, world.supplier), order_id=order.id,
                                                expected_version=order.version)
        for step, member in ((SimpleStep.START_PRODUCTION, world.supplier), (SimpleStep.SHIP_PARTIALLY, world.supplier),
                             (SimpleStep.SHIP, world.supplier), (SimpleStep.RECEIVE, world.buyer),
                             (SimpleStep.CLOSE, world.buyer)):
            order = await transitions.advance_order(session, **await _as(session, member), order_id=order.id,
                                                    expected_version=order.version, action=step)
        kinds = (await session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
                                       .order_by(OrderEvent.id))).all()
        assert list(kinds) == ["order.created", "order.submitted", "order.sent", "order.confirmed",
                               "order.in_production", "order.partially_shipped", "order.shipped", "order.received",
                               "order.closed"]
        await as_owner(session)  # evidence is each recording organization's own
        evidence = (await session.scalars(select(EvidenceRecord.kind).where(
            EvidenceRecord.subject == f"order:{order.id}").order_by(EvidenceRecord.id))).all()
        assert (order.status, list(evidence)) == ("closed", ["order.submitted", "order.confirmed"])

    async def test_buyer_cannot_cancel_once_confirmed(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        order = await transitions.confirm_order(session, **await _as(session, world.supplier), order_id=order.id,
                                                expected_version=order.version)
        refused = await _refused(transitions.cancel_order(session, **await _as(session, world.buyer),
                                                          order_id=order.id, expected_version=order.version))
        assert (refused.status, refused.code) == (409, "order_transition_not_allowed")


class TestChangeOrders:
    async def test_supplier_proposes_buyer_accepts(self, session: AsyncSession, world: OrderWorld) -> None:
        order = await _sent(session, world)
        order = await transitions.confirm_order(session, **await _as(session, world.supplier), order_id=order.id,
                                                expected_version=order.version)
        (line,) = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
        proposal = await changes.propose_change(session, **await _as(session, world.supplier), order_id=order.id,
                                                expected_version=order.version, reason="short of stock",
                                                changes=[LineChange(line_id=line.id, quantity=Decimal(1))])
        refused = await _refused(changes.accept_change(session, **await _as(session, world.supplier),
                                                       order_id=order.id, change_id=proposal.id,
                                                       expected_version=order.version))
        assert (refused.status, refused.code) == (403, "order_wrong_party")
        decision = await changes.accept_change(session, **await _as(session, world.buyer), order_id=order.id,
                                               change_id=proposal.id, expected_version=order.version)
        await session.refresh(line)
        assert (decision.change_order.status, line.quantity, decision.order.gross_total) == (
            "accepted", Decimal(1), Decimal("13.96"))

    async def test_proposer_withdraws_an_open_change(self, session: AsyncSession, world: OrderWorld) -> None:
        # given the buyer's open change request on a confirmed order
        order = await _sent(session, world)
        order = await transitions.confirm_order(session, **await _as(session, world.supplier), order_id=order.id,
                                                expected_version=order.version)
        (line,) = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
        proposal = await changes.propose_change(session, **await _as(session, world.buyer), order_id=order.id,
                                                expected_version=order.version, reason="fewer needed",
                                                changes=[LineChange(line_id=line.id, quantity=Decimal(2))])
        version = order.version
        # when the supplier tries to withdraw it, then it is refused: only the proposer withdraws
        refused = await _refused(changes.withdraw_change(session, **await _as(session, world.supplier),
                                                         order_id=order.id, change_id=proposal.id,
                                                         expected_version=version))
        assert (refused.status, refused.code) == (403, "order_wrong_party")
        # when the buyer withdraws it
        decision = await changes.withdraw_change(session, **await _as(session, world.buyer), order_id=order.id,
                                                 change_id=proposal.id, expected_version=version)
        # then it is closed, the order unchanged but one version on, with a timeline row, an event and an audit entry
        await session.refresh(line)
        assert (decision.change_order.status, line.quantity, decision.order.version) == (
            "withdrawn", Decimal(3), version + 1)
        await as_owner(session)
        topic = "order.change_withdrawn"
        last_kind = await session.scalar(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
                                         .order_by(OrderEvent.id.desc()).limit(1))
        emitted = await session.scalar(select(OutboxEvent.topic).where(OutboxEvent.topic == topic))
        audited = await session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == str(order.id),
                                                                       AuditEntry.action == topic))
        assert (last_kind, emitted, audited) == (topic, topic, topic)
        # and a second withdrawal finds nothing open
        refused = await _refused(changes.withdraw_change(session, **await _as(session, world.buyer),
                                                         order_id=order.id, change_id=proposal.id,
                                                         expected_version=decision.order.version))
        assert (refused.status, refused.code) == (409, "order_transition_not_allowed")
