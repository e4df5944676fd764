"""What each kind of import file holds, and the checking of its rows (pure: no database).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2. Every
problem names its row and column, so a clerk can find the cell. Checks against stored data (does the
material code exist, is the part number taken) are made by the service after these.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from catalog.attributes import AttributeValue, check_attributes
from catalog.classes import load_class_tree
from catalog.imports import fields
from catalog.imports.errors import MissingColumns
from catalog.imports.fields import CellProblem
from catalog.normalize import normalize_text

T = TypeVar("T")
D = TypeVar("D")
ATTRIBUTE_PREFIX = "attr:"


class ImportKind(StrEnum):
    MATERIALS = "materials"
    OFFERS = "offers"
    PRICE_LISTS = "price_lists"


REQUIRED_COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.MATERIALS: ("class_code", "name_zh", "name_en", "base_unit"),
    ImportKind.OFFERS: ("supplier_part_number", "material_code", "currency", "order_unit", "price_tiers"),
    ImportKind.PRICE_LISTS: ("price_list_name", "buyer_uscc", "currency", "valid_from", "material_code",
                             "unit_price"),
}
OPTIONAL_COLUMNS: dict[ImportKind, tuple[str, ...]] = {
    ImportKind.MATERIALS: ("gtin",),
    ImportKind.OFFERS: ("moq", "pack_size", "lead_time_days", "incoterm", "valid_from", "valid_to"),
    ImportKind.PRICE_LISTS: ("valid_to", "min_quantity"),
}


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong in the file: where (row, column) and what (stable code, message)."""

    row: int
    column: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class MaterialRow:
    row: int
    class_code: str
    name_zh: str
    name_en: str
    base_unit: str
    gtin: str | None
    attributes: dict[str, AttributeValue]


@dataclass(frozen=True, slots=True)
class OfferRow:
    row: int
    supplier_part_number: str
    material_code: str
    currency: str
    order_unit: str
    moq: Decimal
    pack_size: Decimal
    lead_time_days: int
    incoterm: str
    valid_from: dt.date
    valid_to: dt.date | None
    tiers: list[tuple[Decimal, Decimal]]


@dataclass(frozen=True, slots=True)
class PriceLineRow:
    row: int
    price_list_name: str
    buyer_uscc: str
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None
    material_code: str
    min_quantity: Decimal
    unit_price: Decimal


ParsedRow = MaterialRow | OfferRow | PriceLineRow


@dataclass
class CheckedRows:
    """The rows that passed the file checks and every problem found (the file is accepted only without any)."""

    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def check_header(kind: ImportKind, header: Sequence[str]) -> None:
    """``MissingColumns`` (422) naming each absent column; repeated or unknown columns are refused too."""
    allowed = set(REQUIRED_COLUMNS[kind]) | set(OPTIONAL_COLUMNS[kind])
    errors = [{"row": 1, "column": name, "code": "missing_column", "message": f"column {name!r} is required"}
              for name in REQUIRED_COLUMNS[kind] if name not in header]
    errors += [{"row": 1, "column": name, "code": "repeated_column", "message": f"column {name!r} appears twice"}
               for name in sorted({name for name in header if header.count(name) > 1})]
    errors += [{"row": 1, "column": name, "code": "unknown_column", "message": f"column {name!r} is not one we read"}
               for name in header if name not in allowed
               and not (kind is ImportKind.MATERIALS and name.startswith(ATTRIBUTE_PREFIX))]
    if errors:
        expected = ", ".join(REQUIRED_COLUMNS[kind])
        raise MissingColumns(f"The header row does not fit a {kind.value} file (needs {expected}).", errors=errors)


class _Cells:
    """One row's cells by column name; collects the problems of the cells it parses."""

    def __init__(self, number: int, header: Sequence[str], values: Sequence[str]) -> None:
        self.number = number
        self.values = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}
        self.problems: list[RowProblem] = []

    def problem(self, column: str, code: str, message: str) -> None:
        self.problems.append(RowProblem(self.number, column, code, message))

    def text(self, column: str, *, max_length: int, required: bool = True) -> str:
        value = self.values.get(column, "")
        if not value and required:
            self.problem(column, "missing_value", f"{column} is required")
        elif len(value) > max_length:
            self.problem(column, "too_long", f"{column} is longer than {max_length} characters")
        return value

    def _parsed(self, column: str, parser: Callable[[str], T], value: str) -> T | None:
        try:
            return parser(value)
        except CellProblem as problem:
            self.problem(column, problem.code, problem.message)
            return None

    def required(self, column: str, parser: Callable[[str], T], fallback: T) -> T:
        """The parsed cell; a problem when it is empty or bad (then ``fallback``: such a row is never stored)."""
        value = self.values.get(column, "")
        if not value:
            self.problem(column, "missing_value", f"{column} is required")
            return fallback
        parsed = self._parsed(column, parser, value)
        return fallback if parsed is None else parsed

    def optional(self, column: str, parser: Callable[[str], T], default: D) -> T | D:
        """The parsed cell, or ``default`` when it is empty; a problem when it is bad."""
        value = self.values.get(column, "")
        parsed = self._parsed(column, parser, value) if value else None
        return default if parsed is None else parsed


def _stored(value: AttributeValue) -> AttributeValue:
    """Attribute values as stored in JSONB: decimals as exact strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: str(number) for key, number in value.items()}  # type: ignore[misc]
    return value


def _material_attributes(cells: _Cells, class_code: str) -> dict[str, AttributeValue]:
    node = load_class_tree().get(class_code)
    if node is None:
        return {}
    raw: dict[str, object] = {}
    for column, text in cells.values.items():
        if not column.startswith(ATTRIBUTE_PREFIX) or not text:
            continue
        key = column.removeprefix(ATTRIBUTE_PREFIX)
        spec = node.attributes.spec(key)
        if spec is None:
            cells.problem(column, "unknown_attribute", f"{key}: not an attribute of class {class_code}")
            continue
        try:
            raw[key] = fields.attribute_value(text, spec)
        except CellProblem as problem:
            cells.problem(column, problem.code, problem.message)
    checked = check_attributes(node.attributes, raw)
    for attribute_problem in checked.problems:
        cells.problem(ATTRIBUTE_PREFIX + attribute_problem.key, attribute_problem.code.value, attribute_problem.message)
    return {key: _stored(value) for key, value in checked.values.items()}


def _material(cells: _Cells) -> MaterialRow:
    class_code = cells.text("class_code", max_length=8)
    if class_code and not load_class_tree().is_leaf(class_code):
        cells.problem("class_code", "unknown_class", f"{class_code!r} is not a leaf class of the class tree")
    return MaterialRow(
        row=cells.number, class_code=class_code,
        name_zh=cells.text("name_zh", max_length=300), name_en=cells.text("name_en", max_length=300),
        base_unit=cells.required("base_unit", fields.unit_code, ""),
        gtin=cells.optional("gtin", fields.gtin, None),
        attributes=_material_attributes(cells, class_code),
    )


def _validity(cells: _Cells, valid_from: dt.date, valid_to: dt.date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        cells.problem("valid_to", "bad_validity", f"valid_to {valid_to} is before valid_from {valid_from}")


def _offer(cells: _Cells, today: dt.date) -> OfferRow:
    valid_from = cells.optional("valid_from", fields.iso_date, today)
    valid_to = cells.optional("valid_to", fields.iso_date, None)
    _validity(cells, valid_from, valid_to)
    return OfferRow(
        row=cells.number, supplier_part_number=cells.text("supplier_part_number", max_length=64),
        material_code=cells.required("material_code", fields.material_code, ""),
        currency=cells.required("currency", fields.currency, ""),
        order_unit=cells.required("order_unit", fields.unit_code, ""),
        moq=cells.optional("moq", _positive_quantity, Decimal(1)),
        pack_size=cells.optional("pack_size", _positive_quantity, Decimal(1)),
        lead_time_days=cells.optional("lead_time_days", _lead_time, 7),
        incoterm=cells.optional("incoterm", fields.incoterm, "EXW"),
        valid_from=valid_from, valid_to=valid_to,
        tiers=cells.required("price_tiers", fields.price_tiers, []),
    )


def _positive_quantity(text: str) -> Decimal:
    return fields.decimal(text, places=fields.QUANTITY_PLACES, positive=True)


def _lead_time(text: str) -> int:
    return fields.whole_number(text, low=0, high=3650)


def _price_line(cells: _Cells) -> PriceLineRow:
    valid_from = cells.required("valid_from", fields.iso_date, dt.date.min)
    valid_to = cells.optional("valid_to", fields.iso_date, None)
    _validity(cells, valid_from, valid_to)
    return PriceLineRow(
        row=cells.number, price_list_name=cells.text("price_list_name", max_length=200),
        buyer_uscc=cells.text("buyer_uscc", max_length=18).upper(),
        currency=cells.required("currency", fields.currency, ""), valid_from=valid_from, valid_to=valid_to,
        material_code=cells.required("material_code", fields.material_code, ""),
        min_quantity=cells.optional("min_quantity", _quantity, Decimal(0)),
        unit_price=cells.required("unit_price", _price, Decimal(0)),
    )


def _quantity(text: str) -> Decimal:
    number = fields.decimal(text, places=fields.QUANTITY_PLACES)
    if number < 0:
        raise CellProblem("negative", f"{text} must not be negative")
    return number


def _price(text: str) -> Decimal:
    return fields.decimal(text, places=fields.MONEY_PLACES, positive=True)


def _duplicate_key(row: ParsedRow) -> tuple[str, object] | None:
    """The column and value that must be unique within one file, for this row's kind."""
    if isinstance(row, OfferRow):
        return ("supplier_part_number", row.supplier_part_number)
    if isinstance(row, PriceLineRow):
        return ("material_code", (row.price_list_name, row.material_code, row.min_quantity))
    if row.gtin:
        return ("gtin", row.gtin)
    return ("name_zh", (row.class_code, normalize_text(row.name_zh), normalize_text(row.name_en),
                        tuple(sorted(row.attributes.items(), key=lambda item: item[0]))))


def _repeats(rows: Sequence[ParsedRow]) -> list[RowProblem]:
    first_seen: dict[object, int] = {}
    problems: list[RowProblem] = []
    for row in rows:
        key = _duplicate_key(row)
        if key is None:
            continue
        marker = repr(key)
        if marker in first_seen:
            problems.append(RowProblem(row.row, key[0], "duplicate_in_file",
                                       f"repeats row {first_seen[marker]} of this file"))
        else:
            first_seen[marker] = row.row
    return problems


def _inconsistent_lists(rows: Sequence[ParsedRow]) -> list[RowProblem]:
    """Every row of one price list must agree on the buyer, currency and validity."""
    first: dict[str, PriceLineRow] = {}
    problems: list[RowProblem] = []
    for row in rows:
        if not isinstance(row, PriceLineRow):
            continue
        head = first.setdefault(row.price_list_name, row)
        for column in ("buyer_uscc", "currency", "valid_from", "valid_to"):
            if getattr(row, column) != getattr(head, column):
                problems.append(RowProblem(row.row, column, "inconsistent_price_list",
                                           f"differs from row {head.row} of price list {row.price_list_name!r}"))
    return problems


def parse_rows(kind: ImportKind, header: Sequence[str], values: Sequence[Sequence[str]], *,
               today: dt.date, first_row: int = 2) -> CheckedRows:
    """Parse and check each row on its own (``first_row`` is the file row number of ``values[0]``)."""
    checked = CheckedRows()
    for index, row_values in enumerate(values):
        cells = _Cells(first_row + index, header, row_values)
        row: ParsedRow
        if kind is ImportKind.MATERIALS:
            row = _material(cells)
        elif kind is ImportKind.OFFERS:
            row = _offer(cells, today)
        else:
            row = _price_line(cells)
        checked.problems += cells.problems
        checked.rows.append(row)
    return checked


def file_problems(rows: Sequence[ParsedRow]) -> list[RowProblem]:
    """Problems between rows: repeats within the file, price-list rows that disagree."""
    return _repeats(rows) + _inconsistent_lists(rows)


def check_rows(kind: ImportKind, header: Sequence[str], values: Sequence[Sequence[str]], *,
               today: dt.date) -> CheckedRows:
    """Every problem of a file whose header passed ``check_header``, in row order."""
    checked = parse_rows(kind, header, values, today=today)
    checked.problems += file_problems(checked.rows)
    checked.problems.sort(key=lambda problem: (problem.row, problem.column))
    return checked
