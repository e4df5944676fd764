"""``/api/v1/crm``: the customers and contacts connector syncs brought in from the organization's CRM."""

import uuid
from typing import Annotated

from fastapi import Depends, Query

from integrations.crm import service
from integrations.crm.schemas import ContactOut, CustomerOut
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/crm", tags=["crm"], route_class=TransactionalRoute)
Manager = Annotated[Principal, Depends(requires(Permission.INTEGRATION_MANAGE))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/customers")
async def list_customers(principal: Manager, session: DbSession, q: Annotated[str | None, Query(max_length=100)] = None,
                         linked: bool | None = None, limit: Limit = 100, offset: Offset = 0) -> list[CustomerOut]:
    """Your CRM customers by name; ``linked=true`` only those that are platform buyer organizations."""
    found = await service.list_customers(session, query=q, linked=linked, limit=limit, offset=offset)
    return [CustomerOut.model_validate(customer) for customer in found]


@router.get("/customers/{customer_id}")
async def get_customer(customer_id: uuid.UUID, principal: Manager, session: DbSession) -> CustomerOut:
    """One CRM customer."""
    return CustomerOut.model_validate(await service.get_customer(session, customer_id=customer_id))


@router.get("/contacts")
async def list_contacts(principal: Manager, session: DbSession, customer_id: uuid.UUID | None = None,
                        limit: Limit = 100, offset: Offset = 0) -> list[ContactOut]:
    """Your CRM contacts (of one customer) by name."""
    found = await service.list_contacts(session, customer_id=customer_id, limit=limit, offset=offset)
    return [ContactOut.model_validate(contact) for contact in found]
