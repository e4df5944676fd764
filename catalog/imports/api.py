"""``/api/v1/catalog/imports``: upload a materials, offers or price-list file; follow its import job."""

import uuid
from pathlib import PurePath
from typing import Annotated

from fastapi import Depends, Request, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile
from starlette.formparsers import MultiPartException

from catalog.imports import service
from catalog.imports.models import CatalogImport
from catalog.imports.reading import FileFormat
from catalog.imports.report import problems_csv
from catalog.imports.rows import ImportKind
from catalog.imports.schemas import UPLOAD_OPENAPI, ImportOut, ImportRequest
from tradeloom.auth import CurrentPrincipal, Principal, requires
from tradeloom.errors import Invalid
from tradeloom.idempotency import Idempotent
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import DbSession, TransactionalRoute
from tradeloom.web.forms import upload_form

router = PrefixedRouter(prefix="/api/v1/catalog/imports", tags=["catalog governance"], route_class=TransactionalRoute)
Reader = Annotated[Principal, Depends(requires(Permission.CATALOG_READ))]
PERMISSION_BY_KIND = {
    ImportKind.MATERIALS: Permission.CATALOG_WRITE,
    ImportKind.OFFERS: Permission.OFFERS_MANAGE,
    ImportKind.PRICE_LISTS: Permission.OFFERS_MANAGE,
}


def file_format_of(filename: str) -> FileFormat:
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix not in FileFormat._value2member_map_:
        raise Invalid(f"Upload a .csv or .xlsx file, not {filename!r}.", code="catalog.import_format")
    return FileFormat(suffix)


def _shown(record: CatalogImport) -> ImportOut:
    return ImportOut.model_validate(record).model_copy(update={"url": f"{router.prefix}/{record.id}"})


async def _upload_form(request: Request) -> tuple[ImportRequest, str, bytes]:
    """The multipart form, read by hand: a missing file or a bad field is a 422 with the import's own codes."""
    try:
        form = await upload_form(request, max_fields=8)
    except (MultiPartException, AssertionError) as exc:
        raise Invalid("Send the file as multipart/form-data.", code="catalog.import_form") from exc
    upload = form.get("file")
    if not isinstance(upload, StarletteUploadFile):
        raise Invalid("Attach the file in the form field 'file'.", code="catalog.import_form",
                      errors=[{"pointer": "/file", "detail": "required"}])
    fields = {key: value for key, value in form.items() if key != "file" and isinstance(value, str)}
    try:
        parameters = ImportRequest.model_validate(fields)
    except ValidationError as exc:
        errors = [{"pointer": "/" + "/".join(map(str, e["loc"])), "code": e["type"], "detail": e["msg"]}
                  for e in exc.errors()]
        raise Invalid("The form fields are not valid.", code="validation_failed", errors=errors) from None
    return parameters, upload.filename or "upload", await upload.read()


@router.post("", status_code=202, openapi_extra=UPLOAD_OPENAPI)
async def upload_import(
    request: Request, principal: CurrentPrincipal, session: DbSession, response: Response, _key: Idempotent,
) -> ImportOut:
    """Queue the import of a file: 202 with the job's URL; unreadable files and wrong headers are 422."""
    parameters, filename, content = await _upload_form(request)
    principal.require(PERMISSION_BY_KIND[parameters.kind])
    record = await service.request_import(
        session, actor=principal.actor, kind=parameters.kind, file_format=file_format_of(filename), filename=filename,
        content=content, dry_run=parameters.dry_run, encoding=parameters.encoding,
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
