"""Creating, reading and amending contracts. Terms change only by a new version that both parties sign.

The contract row and its items always hold the terms in force (version 1 until anything is signed);
a newer version waits in ``contract_terms`` until both signatures are in, then ``put_in_force`` applies it.
"""

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from catalog.service.materials import get_material
from catalog.service.offers import SELLING_KINDS
from catalog.service.price_lists import BUYING_KINDS
from commerce.contracts.models import Contract, ContractItem, ContractTerms
from commerce.contracts.schemas import AmendmentIn, ContractCreate, TermsIn
from commerce.contracts.service.terms import document_hash, terms_document
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.errors import Invalid, NotFound
from tradeloom.identity.service import get_organization
from tradeloom.outbox.service import emit


@dataclass(frozen=True)
class ContractView:
    contract: Contract
    items: list[ContractItem]

    @property
    def status(self) -> str:
        return contract_status(self.contract)


def contract_status(contract: Contract) -> str:
    if contract.signed_terms_version is None:
        return "awaiting_signatures"
    if contract.signed_terms_version == contract.terms_version:
        return "effective"
    return "amendment_awaiting_signatures"


async def _check_parties(session: AsyncSession, actor: Actor, supplier_org_id: uuid.UUID) -> None:
    if (await get_organization(session, actor.org_id)).kind not in BUYING_KINDS:
        raise Invalid("Contracts are issued by the buying organization.", code="contract.not_a_buyer")
    supplier = await get_organization(session, supplier_org_id)
    if supplier.id == actor.org_id or supplier.kind not in SELLING_KINDS:
        raise Invalid("The supplier must be another organization that sells.", code="contract.not_a_supplier",
                      errors=[{"pointer": "/supplier_org_id"}])


async def _add_terms(session: AsyncSession, contract: Contract, version: int, terms: TermsIn, change: str) -> None:
    for item in terms.items:
        await get_material(session, material_id=item.material_id)
    document = await terms_document(session, contract=contract, terms_version=version, terms=terms)
    session.add(ContractTerms(contract_id=contract.id, terms_version=version, org_id=contract.org_id,
                              supplier_org_id=contract.supplier_org_id, document=document,
                              document_hash=document_hash(document), change=change))
    await session.flush()


async def put_in_force(session: AsyncSession, contract: Contract, terms: TermsIn) -> None:
    """Apply signed terms: contract fields and items (drawn amounts kept; dropped items closed)."""
    contract.title, contract.valid_from, contract.valid_to = terms.title, terms.valid_from, terms.valid_to
    contract.value_cap = terms.value_cap
    existing = {item.material_id: item for item in await contract_items(session, contract_id=contract.id,
                                                                        in_force_only=False)}
    for wanted in terms.items:
        material = await get_material(session, material_id=wanted.material_id)
        item = existing.pop(wanted.material_id, None) or ContractItem(
            contract_id=contract.id, org_id=contract.org_id, supplier_org_id=contract.supplier_org_id,
            material_id=material.id)
        item.unit, item.unit_price, item.in_force = material.base_unit, wanted.unit_price, True
        item.quantity_cap, item.value_cap = wanted.quantity_cap, wanted.value_cap
        session.add(item)
    for dropped in existing.values():
        dropped.in_force = False
    await session.flush()


def _contract_number() -> str:
    return "HT-" + secrets.token_hex(5).upper()


async def create_contract(
    session: AsyncSession, *, actor: Actor, fields: ContractCreate, rfq_id: uuid.UUID | None = None
) -> ContractView:
    """The buyer drafts a spot contract or framework agreement; it waits for both signatures."""
    await _check_parties(session, actor, fields.supplier_org_id)
    contract = Contract(org_id=actor.org_id, supplier_org_id=fields.supplier_org_id, number=_contract_number(),
                        kind=fields.kind.value, currency=fields.currency, title=fields.title,
                        valid_from=fields.valid_from, valid_to=fields.valid_to, value_cap=fields.value_cap,
                        terms_version=1, rfq_id=rfq_id)
    session.add(contract)
    await session.flush()
    await _add_terms(session, contract, 1, fields, "original")
    await put_in_force(session, contract, fields)
    payload = {"contract_id": str(contract.id), "supplier_org_id": str(contract.supplier_org_id),
               "kind": contract.kind}
    await emit(session, org_id=actor.org_id, topic="contract.created", payload=payload)
    await record_audit(session, actor=actor, action="contract.created", object_type="contract",
                       object_id=contract.id, details=payload)
    return await contract_view(session, contract_id=contract.id)


async def get_contract(session: AsyncSession, *, contract_id: uuid.UUID) -> Contract:
    """A contract the caller is party to; any other is not found."""
    contract = await session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("No such contract.", code="contract.not_found")
    return contract


async def contract_items(
    session: AsyncSession, *, contract_id: uuid.UUID, in_force_only: bool = True
) -> list[ContractItem]:
    query = select(ContractItem).where(ContractItem.contract_id == contract_id).order_by(ContractItem.id)
    if in_force_only:
        query = query.where(ContractItem.in_force)
    return list((await session.scalars(query)).all())


async def contract_view(session: AsyncSession, *, contract_id: uuid.UUID) -> ContractView:
    contract = await get_contract(session, contract_id=contract_id)
    return ContractView(contract, await contract_items(session, contract_id=contract.id))


async def list_contracts(session: AsyncSession, *, limit: int = 200) -> list[Contract]:
    """The contracts the caller is party to (as buyer or supplier), newest first."""
    query = select(Contract).order_by(Contract.created_at.desc(), Contract.id).limit(limit)
    return list((await session.scalars(query)).all())


async def terms_versions(session: AsyncSession, *, contract_id: uuid.UUID) -> list[ContractTerms]:
    """Every version of the terms, oldest first (the amendment history)."""
    await get_contract(session, contract_id=contract_id)
    query = select(ContractTerms).where(ContractTerms.contract_id == contract_id).order_by(
        ContractTerms.terms_version)
    return list((await session.scalars(query)).all())


async def latest_terms(session: AsyncSession, contract: Contract) -> ContractTerms:
    terms = await session.get(ContractTerms, (contract.id, contract.terms_version))
    assert terms is not None
    return terms


async def amend_contract(
    session: AsyncSession, *, actor: Actor, contract_id: uuid.UUID, expected_version: int, fields: AmendmentIn
) -> ContractView:
    """Either party proposes new terms: a new version that is in force only once both parties sign it."""
    contract = await get_contract(session, contract_id=contract_id)
    check_version(contract.version, expected_version)
    contract.terms_version += 1
    flag_modified(contract, "terms_version")
    await session.flush()
    await _add_terms(session, contract, contract.terms_version, fields, fields.reason)
    payload = {"contract_id": str(contract.id), "terms_version": contract.terms_version, "reason": fields.reason}
    await emit(session, org_id=actor.org_id, topic="contract.amended", payload=payload)
    await record_audit(session, actor=actor, action="contract.amended", object_type="contract",
                       object_id=contract.id, details=payload)
    return await contract_view(session, contract_id=contract.id)
