"""``/api/v1/catalog/imports``: upload a materials, offers or price-list file; follow its import job."""

import uuid
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from catalog.imports import service
from catalog.imports.models import CatalogImport
from catalog.imports.reading import Encoding, FileFormat
from catalog.imports.report import problems_csv
from catalog.imports.rows import ImportKind
from catalog.imports.schemas import ImportOut
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.errors import Invalid
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.transaction import DbSession, TransactionalRoute

router = APIRouter(prefix="/api/v1/catalog/imports", tags=["catalog governance"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
_PERMISSION_BY_KIND = {
    ImportKind.MATERIALS: Permission.CATALOG_WRITE,
    ImportKind.OFFERS: Permission.OFFERS_MANAGE,
    ImportKind.PRICE_LISTS: Permission.OFFERS_MANAGE,
}


def _file_format(filename: str) -> FileFormat:
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix not in FileFormat._value2member_map_:
        raise Invalid(f"Upload a .csv or .xlsx file, not {filename!r}.", code="catalog.import_format")
    return FileFormat(suffix)


def _shown(record: CatalogImport) -> ImportOut:
    return ImportOut.model_validate(record).model_copy(update={"url": f"{router.prefix}/{record.id}"})


@router.post("", status_code=202)
async def upload_import(
    principal: CurrentPrincipal, session: DbSession, response: Response, _key: Idempotent,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    kind: Annotated[ImportKind, Form()],
    dry_run: Annotated[bool, Form(description="check every row, store nothing")] = False,
    encoding: Annotated[Encoding | None, Form(description="CSV only; detected when absent")] = None,
) -> ImportOut:
    """Queue the import of a file: 202 with the job's URL; unreadable files and wrong headers are 422."""
    principal.require(_PERMISSION_BY_KIND[kind])
    filename = file.filename or "upload"
    record = await service.request_import(
        session, actor=principal.actor, kind=kind, file_format=_file_format(filename), filename=filename,
        content=await file.read(), dry_run=dry_run, encoding=encoding,
    )
    response.headers["Location"] = f"{router.prefix}/{record.id}"
    return _shown(record)


@router.get("/{import_id}")
async def get_import(import_id: uuid.UUID, principal: Reader, session: DbSession) -> ImportOut:
    """Status, progress counters and (once run) the per-row report of one of your imports."""
    return _shown(await service.get_import(session, import_id=import_id))


@router.get("/{import_id}/report.csv", response_class=Response)
async def get_import_report(import_id: uuid.UUID, principal: Reader, session: DbSession) -> Response:
    """The report's problems as CSV; cells that a spreadsheet would run as formulas are escaped."""
    record = await service.get_import(session, import_id=import_id)
    return Response(
        problems_csv(record.report.get("problems", [])), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="import-{record.id}-report.csv"'},
    )
