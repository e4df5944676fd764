"""The hook through which governance records ledger evidence.

``catalog`` may not import ``ledger`` (ledger sits above it), yet a merge must leave evidence in the same
transaction. So the composition root hands ``ledger.service.record_evidence`` in through ``use_recorder``:
the dependency points the allowed way and the evidence still commits or rolls back with the merge.
"""

import uuid
from collections.abc import Awaitable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.errors import Unavailable


class EvidenceRecorder(Protocol):
    """The shape of ``ledger.service.record_evidence``."""

    def __call__(self, session: AsyncSession, *, org_id: uuid.UUID, kind: str, subject: str,
                 payload: dict[str, Any] | None = None) -> Awaitable[Any]: ...


_recorders: list[EvidenceRecorder] = []


def use_recorder(recorder: EvidenceRecorder) -> None:
    """Record governance evidence with ``recorder`` from now on (called once at composition)."""
    _recorders[:] = [recorder]


async def record(session: AsyncSession, *, org_id: uuid.UUID, kind: str, subject: str,
                 payload: dict[str, Any]) -> None:
    """Record one entry in the caller's transaction; 503 when no ledger is wired in (nothing is committed)."""
    if not _recorders:
        raise Unavailable("The evidence ledger is not available.", code="catalog.evidence_unavailable")
    await _recorders[0](session, org_id=org_id, kind=kind, subject=subject, payload=payload)
