"""Contracts API: draft, amend, sign (two parties), verify, call off; and each organization's signing key."""

import base64
import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

from commerce.contracts import schemas
from commerce.contracts.models import ContractSignature, SigningKey
from commerce.contracts.service import call_offs, keys, lifecycle, signing
from commerce.contracts.service.lifecycle import ContractView
from commerce.order_port import Placer
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.concurrency import ExpectedVersion, set_etag
from tradeloom.errors import NotFound
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/contracts", tags=["contracts"], route_class=TransactionalRoute)
keys_router = PrefixedRouter(prefix="/api/v1/signing-keys", tags=["contracts"], route_class=TransactionalRoute)
Purchaser = Annotated[Principal, Depends(requires(Permission.RFQ_MANAGE))]
Signer = Annotated[Principal, Depends(requires(Permission.CONTRACT_SIGN))]
Orderer = Annotated[Principal, Depends(requires(Permission.ORDER_CREATE))]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def contract_out(view: ContractView, response: Response | None = None) -> schemas.ContractOut:
    if response is not None:
        set_etag(response, view.contract.version)
    fields = {name: getattr(view.contract, name) for name in schemas.ContractOut.model_fields
              if name not in ("items", "status")}
    return schemas.ContractOut(**fields, status=view.status,
                               items=[schemas.ContractItemOut.model_validate(item) for item in view.items])


def signature_out(signature: ContractSignature, valid: bool) -> schemas.SignatureOut:
    return schemas.SignatureOut(
        org_id=signature.org_id, terms_version=signature.terms_version, signer_user_id=signature.signer_user_id,
        document_hash=signature.document_hash, public_key=_b64(signature.public_key),
        signature=_b64(signature.signature), signed_at=signature.signed_at,
        evidence_entry_id=signature.evidence_entry_id, valid=valid)


def key_out(key: SigningKey) -> schemas.SigningKeyOut:
    return schemas.SigningKeyOut(id=key.id, org_id=key.org_id, custody=key.custody, public_key=_b64(key.public_key),
                                 created_at=key.created_at)


@router.post("", status_code=201)
async def create_contract(body: schemas.ContractCreate, principal: Purchaser, session: DbSession,
                          response: Response, _key: Idempotent) -> schemas.ContractOut:
    """Draft a spot contract or framework agreement with a supplier; it waits for both signatures."""
    view = await lifecycle.create_contract(session, actor=principal.actor, fields=body)
    response.headers["Location"] = f"{router.prefix}/{view.contract.id}"
    return contract_out(view, response)


@router.get("")
async def list_contracts(principal: CurrentPrincipal, session: DbSession) -> list[schemas.ContractOut]:
    """The contracts your organization is party to, newest first."""
    return [contract_out(await lifecycle.contract_view(session, contract_id=c.id))
            for c in await lifecycle.list_contracts(session)]


@router.get("/{contract_id}")
async def get_contract(contract_id: uuid.UUID, principal: CurrentPrincipal, session: DbSession,
                       response: Response) -> schemas.ContractOut:
    """One contract with its items in force; its version as ETag."""
    return contract_out(await lifecycle.contract_view(session, contract_id=contract_id), response)


@router.get("/{contract_id}/terms")
async def terms_history(contract_id: uuid.UUID, principal: CurrentPrincipal,
                        session: DbSession) -> list[schemas.TermsVersionOut]:
    """Every version of the terms (original and amendments), oldest first."""
    return [schemas.TermsVersionOut.model_validate(t)
            for t in await lifecycle.terms_versions(session, contract_id=contract_id)]


@router.post("/{contract_id}/amendments", status_code=201)
async def amend(contract_id: uuid.UUID, body: schemas.AmendmentIn, principal: Signer, session: DbSession,
                expected_version: ExpectedVersion, response: Response, _key: Idempotent) -> schemas.ContractOut:
    """Propose new terms: a new version, in force once both parties sign it."""
    view = await lifecycle.amend_contract(session, actor=principal.actor, contract_id=contract_id,
                                          expected_version=expected_version, fields=body)
    return contract_out(view, response)


@router.post("/{contract_id}/signatures", status_code=201)
async def sign(contract_id: uuid.UUID, body: schemas.SignIn, principal: Signer, session: DbSession, request: Request,
               expected_version: ExpectedVersion, response: Response, _key: Idempotent) -> schemas.ContractOut:
    """Sign the latest terms version for your organization (effective once both parties signed)."""
    view = await signing.sign_contract(session, actor=principal.actor, contract_id=contract_id,
                                       expected_version=expected_version, signature=body.signature,
                                       secret=request.app.state.signing_secret)
    return contract_out(view, response)


@router.get("/{contract_id}/verification")
async def verification(contract_id: uuid.UUID, principal: CurrentPrincipal,
                       session: DbSession) -> schemas.VerificationOut:
    """The latest terms' hash, the parties' public keys and signatures, each checked."""
    checked = await signing.verification(session, contract_id=contract_id)
    return schemas.VerificationOut(
        contract_id=checked.contract.id, terms_version=checked.terms.terms_version,
        document_hash=checked.terms.document_hash, hash_matches_document=checked.hash_matches_document,
        signatures=[signature_out(s, valid) for s, valid in checked.signatures], fully_signed=checked.fully_signed)


@router.post("/{contract_id}/call-offs", status_code=201)
async def call_off(contract_id: uuid.UUID, body: schemas.CallOffIn, principal: Orderer, session: DbSession,
                   placer: Placer, _key: Idempotent) -> schemas.CallOffOut:
    """Order against a framework agreement; 409 ``call_off_over_cap`` when a cap would be exceeded."""
    placed = await call_offs.place_call_off(session, actor=principal.actor, contract_id=contract_id, fields=body,
                                            placer=placer)
    return schemas.CallOffOut.model_validate(placed)


@router.get("/{contract_id}/call-offs")
async def list_call_offs(contract_id: uuid.UUID, principal: CurrentPrincipal,
                         session: DbSession) -> list[schemas.CallOffOut]:
    """The call-offs against a contract, oldest first."""
    placed = await call_offs.call_offs_of(session, contract_id=contract_id)
    return [schemas.CallOffOut.model_validate(c) for c in placed]


@keys_router.get("/current")
async def current_key(principal: CurrentPrincipal, session: DbSession) -> schemas.SigningKeyOut:
    """Your organization's active signing key (public part)."""
    key = await keys.active_key(session, org_id=principal.org_id)
    if key is None:
        raise NotFound("Your organization has no signing key yet (one is made on first signature).",
                       code="contract.no_signing_key")
    return key_out(key)


@keys_router.post("", status_code=201)
async def generate_key(principal: Signer, session: DbSession, request: Request,
                       _key: Idempotent) -> schemas.SigningKeyOut:
    """Have the platform make and keep a new key for your organization (the old one is revoked)."""
    return key_out(await keys.generate_platform_key(session, actor=principal.actor,
                                                    secret=request.app.state.signing_secret))


@keys_router.post("/uploaded", status_code=201)
async def upload_key(body: schemas.PublicKeyIn, principal: Signer, session: DbSession,
                     _key: Idempotent) -> schemas.SigningKeyOut:
    """Register your own public key: you then sign offline and upload signatures."""
    return key_out(await keys.upload_public_key(session, actor=principal.actor, public_key=body.public_key))


routers = (router, keys_router)
