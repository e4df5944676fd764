"""Duplicate-candidate scoring between materials of the catalogue.

Two records are likely the same material when their names say the same thing (after normalization and
synonyms: "SS304 hex bolt" = "304不锈钢外六角螺栓" in spirit, compared per language) and their attribute
values agree once brought to one unit. Attribute conflicts weigh most: M8×30 and M8×35 bolts have almost
the same name, but a differing length makes them two materials.

``candidate_pairs`` compares only within one leaf class (blocking) and prefilters by name with
``rapidfuzz.process.cdist`` (vectorised, multi-threaded; needs numpy) before the full score.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from rapidfuzz import fuzz, process

from catalog.attributes import AttributeTemplate
from catalog.errors import InexactConversion
from catalog.normalize import canonical_tokens, normalize_text, segment
from catalog.units import convert, dimension_of, dimensions, get_unit

# How much each part counts; attribute agreement dominates because names are often copied and edited.
WEIGHTS = {"names": 0.35, "attributes": 0.55, "base_unit": 0.10}
# Without attributes to compare, a name match alone is capped: it cannot prove the same specification.
NAME_ONLY_CAP = 80.0
_ROWS_PER_BATCH = 1024


@dataclass(frozen=True, slots=True)
class MaterialRecord:
    """What duplicate detection needs to know about a material (no ORM object, no session)."""

    id: Hashable
    class_code: str
    name_zh: str
    name_en: str
    attributes: Mapping[str, object] = field(default_factory=dict)
    base_unit: str = "H87"
    attribute_units: Mapping[str, str] = field(default_factory=dict)
    """The unit of each plain numeric value (its template unit): see ``template_units``."""


@dataclass(frozen=True, slots=True)
class DuplicateScore:
    """Total 0..100 and the parts it is made of; ``conflicts`` names the attributes that differ."""

    total: float
    parts: dict[str, float]
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """Two materials of one class that may be the same, with their score."""

    first_id: Hashable
    second_id: Hashable
    score: DuplicateScore


@dataclass(frozen=True, slots=True)
class _Prepared:
    record: MaterialRecord
    name_zh: str
    name_en: str
    attributes: dict[str, object]


def template_units(template: AttributeTemplate) -> dict[str, str]:
    """The unit of every measured attribute of a template, for ``MaterialRecord.attribute_units``."""
    return {spec.key: spec.unit for spec in template.attributes if spec.unit}


def comparable_name(name: str) -> str:
    """A name as words with synonyms folded to one key, e.g. "SS304 Hex Bolts" → "~ss304 ~hex ~bolt"."""
    return " ".join(canonical_tokens(segment(name)))


def _in_base_unit(quantity: Decimal | int | str, unit: str) -> Decimal:
    """A quantity in the base unit of its dimension, so 30 MMT equals 3 CMT."""
    base = dimensions()[dimension_of(unit)].base
    try:
        return convert(Decimal(quantity), unit, base)
    except InexactConversion:
        return convert(Decimal(quantity), unit, base, places=12)


def _quantity(number: object, unit: str | None) -> object:
    if unit is None or isinstance(number, bool) or not isinstance(number, int | Decimal | str):
        return comparable_value(number)
    return _in_base_unit(number, unit)


def comparable_value(value: object, unit: str | None = None) -> object:
    """An attribute value in a form where equal means the same: quantities in base units, text normalized.

    ``unit`` is the unit of a plain number or range (the template unit); a ``{"value", "unit"}`` or
    ``{"min", "max", "unit"}`` mapping carries its own.
    """
    if isinstance(value, Mapping):
        own_unit = value.get("unit", unit)
        if "value" in value:
            return _quantity(value["value"], own_unit)
        if {"min", "max"} <= set(value):
            return (_quantity(value["min"], own_unit), _quantity(value["max"], own_unit))
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return _in_base_unit(value, unit) if unit else Decimal(value)
    return normalize_text(value) if isinstance(value, str) else value


def _prepare(record: MaterialRecord) -> _Prepared:
    attributes = {
        key: comparable_value(value, record.attribute_units.get(key))
        for key, value in record.attributes.items() if value is not None
    }
    return _Prepared(record, comparable_name(record.name_zh), comparable_name(record.name_en), attributes)


def _name_score(first: _Prepared, second: _Prepared) -> float | None:
    scores = [
        fuzz.token_set_ratio(a, b)
        for a, b in ((first.name_zh, second.name_zh), (first.name_en, second.name_en))
        if a and b
    ]
    return sum(scores) / len(scores) if scores else None


def _unit_score(first: MaterialRecord, second: MaterialRecord) -> float:
    if first.base_unit == second.base_unit:
        return 100.0
    same_dimension = get_unit(first.base_unit).dimension == get_unit(second.base_unit).dimension
    return 50.0 if same_dimension else 0.0


def _score_prepared(first: _Prepared, second: _Prepared) -> DuplicateScore:
    shared = sorted(first.attributes.keys() & second.attributes.keys())
    conflicts = tuple(key for key in shared if first.attributes[key] != second.attributes[key])
    names = _name_score(first, second) or 0.0
    parts = {"names": round(names, 1), "base_unit": _unit_score(first.record, second.record)}
    if shared:
        parts["attributes"] = round(100.0 * (len(shared) - len(conflicts)) / len(shared), 1)
    total = sum(parts[key] * WEIGHTS[key] for key in parts) / sum(WEIGHTS[key] for key in parts)
    if not shared:
        total = min(total, NAME_ONLY_CAP)
    return DuplicateScore(round(total, 1), parts, conflicts)


def score_pair(first: MaterialRecord, second: MaterialRecord) -> DuplicateScore:
    """How likely two materials are the same one, 0..100, with the parts that make the score."""
    return _score_prepared(_prepare(first), _prepare(second))


def _by_class(materials: Iterable[MaterialRecord]) -> dict[str, list[_Prepared]]:
    blocks: dict[str, list[_Prepared]] = defaultdict(list)
    for record in materials:
        blocks[record.class_code].append(_prepare(record))
    return blocks


def _close_by_name(block: Sequence[_Prepared], name_floor: float) -> Iterable[tuple[int, int]]:
    """Index pairs (i < j) whose combined names reach ``name_floor``, found with cdist in row batches."""
    names = [f"{item.name_zh} {item.name_en}".strip() for item in block]
    for start in range(0, len(names), _ROWS_PER_BATCH):
        rows = names[start:start + _ROWS_PER_BATCH]
        matrix = process.cdist(rows, names, scorer=fuzz.token_set_ratio, score_cutoff=name_floor, workers=-1)
        for offset, row in enumerate(matrix):
            i = start + offset
            yield from ((i, int(j)) for j in row.nonzero()[0] if int(j) > i)


def candidate_pairs(
    materials: Iterable[MaterialRecord], *, threshold: float = 85.0, name_floor: float = 60.0,
) -> list[DuplicateCandidate]:
    """Pairs within the same leaf class that score at least ``threshold``, best first."""
    found: list[DuplicateCandidate] = []
    for block in _by_class(materials).values():
        for i, j in _close_by_name(block, name_floor):
            score = _score_prepared(block[i], block[j])
            if score.total >= threshold:
                found.append(DuplicateCandidate(block[i].record.id, block[j].record.id, score))
    return sorted(found, key=lambda candidate: -candidate.score.total)
