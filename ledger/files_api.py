"""``POST /api/v1/ledger/files``: register a design or a certificate as evidence by its salted digest."""

from typing import Annotated

from fastapi import Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from ledger.files import FileEvidenceKind, register_file
from tradeloom.auth import Principal, requires
from tradeloom.errors import Invalid
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute

router = PrefixedRouter(prefix="/api/v1/ledger", tags=["ledger"], route_class=TransactionalRoute)
Registrar = Annotated[Principal, Depends(requires(Permission.EVIDENCE_REGISTER))]
MAX_FILE_BYTES = 50 * 1024 * 1024


class RegisteredFileOut(BaseModel):
    entry_id: int
    payload_digest: str
    salt: str
    stored: bool
    bundle_url: str


@router.post("/files", status_code=201)
async def register_evidence_file(
    request: Request, principal: Registrar, session: DbSession, file: Annotated[UploadFile, File()],
    kind: Annotated[FileEvidenceKind, Form()], subject: Annotated[str, Form(min_length=1, max_length=200)],
    keep_copy: Annotated[bool, Form(description="store the file here too (default: only its salted digest)")] = False,
) -> RegisteredFileOut:
    """Prove you held a file at this time: the log records SHA-256(salt ‖ file); the file stays yours."""
    content = await file.read(MAX_FILE_BYTES + 1)
    if not content or len(content) > MAX_FILE_BYTES:
        raise Invalid(f"The file must be between 1 byte and {MAX_FILE_BYTES} bytes.", code="evidence_file_size")
    settings = request.app.state.settings
    registered = await register_file(
        session, actor=principal.actor, kind=kind, subject=subject, filename=file.filename or "file",
        content=content, keep_copy_in=settings.data_dir / "evidence-files" if keep_copy else None,
    )
    return RegisteredFileOut(entry_id=registered.entry_id, payload_digest=registered.payload_digest,
                             salt=registered.salt_hex, stored=registered.stored,
                             bundle_url=f"/api/v1/ledger/bundles/{registered.entry_id}")
