"""Import job as the API shows it."""

import datetime as dt
import uuid
from typing import Any

from catalog.imports.rows import ImportKind
from tradeloom.schemas import ApiModel


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
