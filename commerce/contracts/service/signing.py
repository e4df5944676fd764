"""Two-party signatures of a terms version, and their verification.

Each party signs the 32-byte SHA-256 of the terms document (RFC 8785 JSON) with its Ed25519 key. The
signature, signer, time, hash and public key are stored and recorded as ledger evidence
(``contract.signed``). The version is in force once both parties signed it; a framework's prices are then
published to the buyer's catalogue.
"""

import base64
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from commerce.contracts.models import Contract, ContractSignature, ContractTerms
from commerce.contracts.schemas import ContractKind
from commerce.contracts.service.keys import (
    UPLOADED,
    decode_base64,
    platform_sign,
    signing_key_for,
    verify_signature,
)
from commerce.contracts.service.lifecycle import (
    ContractView,
    contract_items,
    contract_view,
    get_contract,
    latest_terms,
    put_in_force,
)
from commerce.contracts.service.publishing import publish_prices
from commerce.contracts.service.terms import document_hash, terms_of
from ledger.service import record_evidence
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Conflict, Invalid
from tradeloom.outbox.service import emit


@dataclass(frozen=True)
class Verification:
    contract: Contract
    terms: ContractTerms
    hash_matches_document: bool
    signatures: list[tuple[ContractSignature, bool]]

    @property
    def fully_signed(self) -> bool:
        valid_orgs = {signature.org_id for signature, valid in self.signatures if valid}
        return {self.contract.org_id, self.contract.supplier_org_id} <= valid_orgs


async def _signatures(session: AsyncSession, contract_id: uuid.UUID, terms_version: int) -> list[ContractSignature]:
    query = select(ContractSignature).where(ContractSignature.contract_id == contract_id,
                                            ContractSignature.terms_version == terms_version).order_by(
        ContractSignature.signed_at)
    return list((await session.scalars(query)).all())


async def _signature_bytes(
    session: AsyncSession, actor: Actor, terms: ContractTerms, supplied: str | None, secret: str
) -> tuple[bytes, bytes]:
    """(public key, signature): made with the platform-kept key, or checked when the org signed offline."""
    key = await signing_key_for(session, actor=actor, secret=secret)
    message = bytes.fromhex(terms.document_hash)
    if key.custody == UPLOADED:
        if supplied is None:
            raise Invalid("Your organization keeps its own key: sign the document hash offline and send the "
                          "signature.", code="contract.signature_required")
        signature = decode_base64(supplied, what="signature", size=64)
        if not verify_signature(key.public_key, signature, message):
            raise Invalid("The signature does not verify against your organization's public key and this "
                          "version's hash.", code="contract.bad_signature")
        return key.public_key, signature
    if supplied is not None:
        raise Invalid("The platform keeps your organization's key and signs for you; send no signature.",
                      code="contract.signature_not_expected")
    return key.public_key, platform_sign(key, secret=secret, message=message)


async def sign_contract(
    session: AsyncSession, *, actor: Actor, contract_id: uuid.UUID, expected_version: int,
    signature: str | None, secret: str,
) -> ContractView:
    """Sign the latest terms version for the actor's organization; effective when both have signed."""
    contract = await get_contract(session, contract_id=contract_id)
    check_version(contract.version, expected_version)
    terms = await latest_terms(session, contract)
    if any(s.org_id == actor.org_id for s in await _signatures(session, contract.id, terms.terms_version)):
        raise Conflict(f"Your organization already signed version {terms.terms_version}.",
                       code="contract.already_signed")
    public_key, signature_bytes = await _signature_bytes(session, actor, terms, signature, secret)
    receipt = await record_evidence(session, org_id=actor.org_id, kind="contract.signed",
                                    subject=f"contract:{contract.id}", payload={
        "terms_version": terms.terms_version, "document_hash": terms.document_hash,
        "public_key": base64.b64encode(public_key).decode(), "signature": base64.b64encode(signature_bytes).decode()})
    session.add(ContractSignature(
        contract_id=contract.id, terms_version=terms.terms_version, org_id=actor.org_id,
        buyer_org_id=contract.org_id, supplier_org_id=contract.supplier_org_id, signer_user_id=actor.user_id,
        document_hash=terms.document_hash, public_key=public_key, signature=signature_bytes,
        evidence_entry_id=receipt.entry_id))
    await flush_or_conflict(session, "Your organization already signed this version.", "contract.already_signed")
    flag_modified(contract, "terms_version")  # a signature is a new state of the contract: new ETag
    payload = {"contract_id": str(contract.id), "terms_version": terms.terms_version,
               "document_hash": terms.document_hash}
    await emit(session, org_id=actor.org_id, topic="contract.signed", payload=payload)
    await record_audit(session, actor=actor, action="contract.signed", object_type="contract",
                       object_id=contract.id, details=payload)
    if len(await _signatures(session, contract.id, terms.terms_version)) == 2:
        await _take_effect(session, actor, contract, terms)
    await session.flush()
    return await contract_view(session, contract_id=contract.id)


async def _take_effect(session: AsyncSession, actor: Actor, contract: Contract, terms: ContractTerms) -> None:
    await put_in_force(session, contract, terms_of(terms.document))
    contract.signed_terms_version = terms.terms_version
    if contract.kind == ContractKind.FRAMEWORK:
        await publish_prices(session, contract, await contract_items(session, contract_id=contract.id))
    await session.flush()
    await emit(session, org_id=actor.org_id, topic="contract.effective", payload={
        "contract_id": str(contract.id), "terms_version": terms.terms_version,
        "buyer_org_id": str(contract.org_id), "supplier_org_id": str(contract.supplier_org_id)})


async def verification(session: AsyncSession, *, contract_id: uuid.UUID) -> Verification:
    """The latest version's hash (recomputed from the stored document), public keys and signatures, checked."""
    contract = await get_contract(session, contract_id=contract_id)
    terms = await latest_terms(session, contract)
    message = bytes.fromhex(terms.document_hash)
    checked = [(s, s.document_hash == terms.document_hash and verify_signature(s.public_key, s.signature, message))
               for s in await _signatures(session, contract.id, terms.terms_version)]
    return Verification(contract, terms, document_hash(terms.document) == terms.document_hash, checked)
