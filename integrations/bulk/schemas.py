"""Bulk requests and jobs as the API shows them."""

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import Field

from integrations.bulk.records import BulkKind
from tradeloom.schemas import ApiModel, StrictModel

SourceSystem = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class BulkRequest(StrictModel):
    """Records of one kind from one source system; each is checked on its own when the job runs."""

    source_system: SourceSystem
    records: list[dict[str, Any]] = Field(min_length=1)


class BulkJobOut(ApiModel):
    """Status and progress; ``results`` has one entry per record (created / existing / rejected) once done."""

    id: uuid.UUID
    kind: BulkKind
    source_system: str
    status: str
    total_records: int
    processed_records: int
    created_count: int
    existing_count: int
    rejected_count: int
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    url: str = ""


class BulkJobDetail(BulkJobOut):
    results: list[dict[str, Any]]
