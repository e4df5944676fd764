"""The evidence log over HTTP. Everything is public except bundles looked up by entry id.

``/ledger/checkpoint`` and ``/ledger/key`` are the plain-text endpoints log clients and witnesses expect;
``/api/v1/ledger/…`` serves leaves, RFC 9162 proofs and evidence bundles as JSON.
"""

from typing import Annotated, Final

from fastapi import Depends, Path, Query, Request
from fastapi.responses import PlainTextResponse

from ledger import log_service
from ledger.bundle import EvidenceBundle
from ledger.checkpoint import VerifierKey
from ledger.schemas import ConsistencyProofOut, InclusionProofOut, LeafOut
from ledger.signing import log_signer
from tradeloom.auth import Principal, requires
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

MAX_SIZE: Final = 2**63 - 1  # PostgreSQL bigint: larger numbers are a 422, never a database error
TreeSize = Annotated[int, Query(ge=0, le=MAX_SIZE, description="number of leaves in the tree")]
LeafIndex = Annotated[int, Path(ge=0, le=MAX_SIZE, description="position of the entry in the log")]
Reader = Annotated[Principal, Depends(requires(Permission.LEDGER_READ))]

notes = PrefixedRouter(prefix="/ledger", tags=["ledger"], route_class=TransactionalRoute)
router = PrefixedRouter(prefix="/api/v1/ledger", tags=["ledger"], route_class=TransactionalRoute)


def log_key(request: Request) -> VerifierKey:
    """The log's verifier key, derived from the signing key in the settings."""
    return log_signer(request.app.state.settings).verifier_key


LogKey = Annotated[VerifierKey, Depends(log_key)]


@notes.get("/checkpoint", response_class=PlainTextResponse)
async def get_checkpoint(session: DbSession, tree_size: Annotated[int | None, Query(ge=0, le=MAX_SIZE)] = None) -> str:
    """The latest signed checkpoint (C2SP tlog-checkpoint note), or the one signed at ``tree_size``."""
    if tree_size is None:
        return (await log_service.latest_checkpoint(session)).note
    return (await log_service.checkpoint_at(session, tree_size=tree_size)).note


@notes.get("/key", response_class=PlainTextResponse)
async def get_key(key: LogKey) -> str:
    """The log's verifier key (``<name>+<key id>+<base64 key>``); pin it from here or a trusted copy."""
    return f"{key}\n"


@router.get("/entries/{leaf_index}")
async def get_entry(leaf_index: LeafIndex, session: DbSession) -> LeafOut:
    """A sequenced entry by leaf index: its exact leaf data (base64), leaf hash, kind and subject."""
    leaf = await log_service.leaf_at(session, leaf_index=leaf_index)
    return LeafOut.of(leaf_index=leaf.leaf_index, kind=leaf.kind, subject=leaf.subject,
                      entry_data=leaf.entry_data, leaf_hash=leaf.leaf_hash)


@router.get("/entries/{leaf_index}/bundle", response_model_exclude_none=True)
async def get_entry_bundle(leaf_index: LeafIndex, session: DbSession, key: LogKey) -> EvidenceBundle:
    """The self-contained evidence bundle of the entry at ``leaf_index``, for `tradeloom ledger verify`."""
    return await log_service.bundle_for_leaf(session, leaf_index=leaf_index, log_key=key)


@router.get("/proof/inclusion")
async def get_inclusion_proof(
    session: DbSession, index: Annotated[int, Query(ge=0, le=MAX_SIZE, description="leaf index")],
    tree_size: TreeSize | None = None,
) -> InclusionProofOut:
    """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves (default: latest)."""
    proof = await log_service.inclusion_proof(session, leaf_index=index, tree_size=tree_size)
    return InclusionProofOut.of(proof)


@router.get("/proof/consistency")
async def get_consistency_proof(session: DbSession, first: TreeSize, second: TreeSize) -> ConsistencyProofOut:
    """RFC 9162 consistency proof that the tree of ``first`` leaves is a prefix of that of ``second``."""
    proof = await log_service.consistency_proof(session, first=first, second=second)
    return ConsistencyProofOut.of(proof)


@router.get("/bundles/{entry_id}", response_model_exclude_none=True)
async def get_bundle(
    entry_id: Annotated[int, Path(ge=1, le=MAX_SIZE)], principal: Reader, session: DbSession, key: LogKey
) -> EvidenceBundle:
    """The evidence bundle of one of your organization's entries, by the entry id record_evidence returned."""
    return await log_service.bundle_for_entry(session, entry_id=entry_id, log_key=key)
