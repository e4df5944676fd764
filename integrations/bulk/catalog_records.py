"""Materials, offers and price lists in bulk, checked and written by the catalogue import machinery.

Unlike an uploaded file (all rows or none), a bulk job writes every record that passes and reports the
others: an ERP resends only what was refused. Rows of one price list stand or fall together.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.imports import apply
from catalog.imports.rows import ParsedRow, RowProblem, file_problems, parse_rows
from catalog.service.materials import materials_by_code
from integrations.bulk.outcome import Outcomes, Problem
from integrations.bulk.records import IMPORT_KIND, BulkKind, BulkRecord, ImportSheet, PriceListRecord, import_sheet
from tradeloom.audit import Actor


def _problem(sheet: ImportSheet, problem: RowProblem) -> tuple[int, Problem]:
    return sheet.record_of_row[problem.row], Problem("/" + problem.column, problem.code, problem.message)


def _duplicate_price_list_names(records: Sequence[tuple[int, BulkRecord]], outcomes: Outcomes) -> None:
    """One price list per name in a request: the import groups lines by name."""
    seen: dict[str, int] = {}
    for index, record in records:
        if isinstance(record, PriceListRecord):
            if record.name in seen:
                outcomes.reject(index, Problem("/name", "duplicate_in_request",
                                               f"record {seen[record.name]} has the same price list name"))
            seen.setdefault(record.name, index)


def _passing(rows: Sequence[ParsedRow], sheet: ImportSheet, outcomes: Outcomes) -> list[ParsedRow]:
    return [row for row in rows if sheet.record_of_row[row.row] not in outcomes.rejected]


async def _created_ids(session: AsyncSession, kind: BulkKind, sheet: ImportSheet, written: list[dict[str, Any]],
                       records: Sequence[tuple[int, BulkRecord]]) -> dict[int, uuid.UUID]:
    """Record index → id of what the import wrote for it."""
    if kind is BulkKind.MATERIALS:
        found = await materials_by_code(session, codes=[entry["code"] for entry in written])
        return {sheet.record_of_row[entry["row"]]: found[entry["code"]].material.id for entry in written}
    if kind is BulkKind.OFFERS:
        return {sheet.record_of_row[entry["row"]]: uuid.UUID(entry["id"]) for entry in written}
    index_by_name = {record.name: index for index, record in records if isinstance(record, PriceListRecord)}
    return {index_by_name[entry["price_list"]]: uuid.UUID(entry["id"]) for entry in written}


async def write_catalog_records(session: AsyncSession, *, actor: Actor, kind: BulkKind,
                                records: Sequence[tuple[int, BulkRecord]], today: dt.date,
                                outcomes: Outcomes) -> None:
    """Check the (index, record) pairs as import rows, write those that pass, note each one's outcome."""
    _duplicate_price_list_names(records, outcomes)
    sheet = import_sheet(kind, [(i, record) for i, record in records if i not in outcomes.rejected])
    import_kind = IMPORT_KIND[kind]
    checked = parse_rows(import_kind, sheet.header, sheet.rows, today=today, first_row=0)
    for problem in checked.problems + file_problems(checked.rows):
        outcomes.reject(*_problem(sheet, problem))
    rows = _passing(checked.rows, sheet, outcomes)
    for problem in await apply.stored_data_problems(session, actor=actor, kind=import_kind, rows=rows):
        outcomes.reject(*_problem(sheet, problem))
    rows = _passing(rows, sheet, outcomes)
    if rows:
        written = await apply.write_rows(session, actor=actor, kind=import_kind, rows=rows)
        outcomes.created.update(await _created_ids(session, kind, sheet, written, records))
