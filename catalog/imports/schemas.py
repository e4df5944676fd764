"""Import job as the API shows it."""

import datetime as dt
import uuid
from typing import Any

from catalog.imports.reading import Encoding
from catalog.imports.rows import ImportKind
from tradeloom.schemas import ApiModel, StrictModel


class ImportRequest(StrictModel):
    """The form fields sent beside the file."""

    kind: ImportKind
    dry_run: bool = False
    encoding: Encoding | None = None


UPLOAD_OPENAPI: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "kind"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "CSV (UTF-8 or GB18030) or XLSX"},
        "kind": {"type": "string", "enum": [kind.value for kind in ImportKind]},
        "dry_run": {"type": "boolean", "default": False, "description": "check every row, store nothing"},
        "encoding": {"type": "string", "enum": [encoding.value for encoding in Encoding],
                     "description": "CSV only; detected when absent"},
    },
}}}}}


class ImportOut(ApiModel):
    """Status and progress of an import; ``report`` lists every problem by row and column once it ran."""

    id: uuid.UUID
    kind: ImportKind
    filename: str
    file_format: str
    encoding: str | None
    dry_run: bool
    status: str
    total_rows: int
    processed_rows: int
    error_count: int
    created_count: int
    report: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str = ""
