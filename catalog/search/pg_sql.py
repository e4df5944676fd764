"""SQL pieces of the PostgreSQL backend: tsquery text from a plan, the matched sets, filters, sort orders."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, String, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY

from catalog.models import Material, SupplierOffer
from catalog.search.models import MaterialSearchFacts as Facts
from catalog.search.models import SearchWord
from catalog.search.query import PRICE_BOUNDS, SearchQuery, SortOrder, TextPlan

Matched = Select[uuid.UUID, float]  # (material_id, score)
FUZZY_LIMIT = 500  # trigram candidates considered; a typo query never needs more


def _lexeme(word: str) -> str:
    """A quoted tsquery lexeme, taken verbatim (a cast to tsquery does not re-parse quoted lexemes)."""
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(plan: TextPlan) -> str:
    """AND over the groups, OR over each group's alternatives, AND inside a many-word alternative.

    Our lexemes carry no positions (they are array_to_tsvector'ed), so a phrase cannot be asked for: the
    words of "stainless steel" must simply both be there.
    """
    groups = []
    for group in plan.groups:
        alternatives = []
        for alternative in sorted(group.alternatives):
            words = [_lexeme(word) + (":*" if group.prefix else "") for word in alternative]
            alternatives.append("(" + " & ".join(words) + ")")
        groups.append("(" + " | ".join(alternatives) + ")")
    return " & ".join(groups)


def tsquery(plan: TextPlan) -> ColumnElement[Any]:
    return cast(literal(tsquery_text(plan)), TSQUERY)


def _hit_columns(score: ColumnElement[Any]) -> tuple[Any, ...]:
    return (Facts.material_id, score.label("score"), Facts.class_code, Facts.best_price, Facts.supplier_ids,
            Facts.in_stock, Facts.lead_time_days, Facts.code, Facts.attributes)


def text_hits(plan: TextPlan, *, ranked: bool = True) -> Select[Any]:
    """Materials whose lexemes match, read from the facts table alone (its GIN index, no join).

    ``ts_rank`` is most of the cost of a broad match (~10 times the match itself on 3,000 hits), so it
    is only computed when the results are sorted by relevance."""
    query = tsquery(plan)
    score = func.ts_rank(Facts.lexemes, query) if ranked else literal(0.0)
    return select(*_hit_columns(score)).where(Facts.lexemes.bool_op("@@")(query))


def all_hits() -> Select[Any]:
    return select(*_hit_columns(literal(0.0)))


def matched_hits(matched: Matched) -> Select[Any]:
    """Hits for materials found otherwise (identifiers, trigram similarity), with their scores."""
    found = matched.subquery("matched")
    return select(*_hit_columns(found.c.score)).join(found, found.c.material_id == Facts.material_id)


def similar_matches(text: str) -> Matched:
    """Names, codes and supplier part numbers like the whole text (pg_trgm; each branch uses its own index)."""
    query = literal(text)
    branches = [
        select(Material.id.label("material_id"), func.word_similarity(query, Material.name_zh).label("score"))
        .where(query.op("<%")(Material.name_zh)).limit(FUZZY_LIMIT),
        select(Material.id, func.word_similarity(query, Material.name_en)).where(query.op("<%")(Material.name_en))
        .limit(FUZZY_LIMIT),
        select(Material.id, func.similarity(Material.code, query)).where(Material.code.op("%")(query))
        .limit(FUZZY_LIMIT),
        select(SupplierOffer.material_id, func.similarity(SupplierOffer.supplier_part_number, query))
        .where(SupplierOffer.supplier_part_number.op("%")(query)).limit(FUZZY_LIMIT),
    ]
    candidates = union_all(*branches).subquery("candidates")
    return select(candidates.c.material_id, func.max(candidates.c.score).label("score")).group_by(
        candidates.c.material_id)


def closest_words(words: list[str]) -> Select[Any]:
    """Each word with the known word most like it (itself when known), by trigram similarity."""
    typed = func.unnest(literal(words, ARRAY(String))).table_valued("word").render_derived(name="typed")
    closest = (select(SearchWord.word).where(SearchWord.word.op("%")(typed.c.word))
               .order_by(func.similarity(SearchWord.word, typed.c.word).desc(), SearchWord.word).limit(1)
               .scalar_subquery())
    return select(typed.c.word, closest)


def id_matches(material_ids: list[uuid.UUID]) -> Matched:
    return select(Material.id.label("material_id"), literal(1.0).label("score")).where(Material.id.in_(material_ids))


def filtered(statement: Select[Any], query: SearchQuery, class_codes: list[str] | None) -> Select[Any]:
    """The hits that pass the filters (every filter is on the facts table)."""
    if class_codes is not None:
        statement = statement.where(Facts.class_code.in_(class_codes))
    if query.supplier_id is not None:
        statement = statement.where(Facts.supplier_ids.contains([query.supplier_id]))
    if query.in_stock is not None:
        statement = statement.where(Facts.in_stock.is_(query.in_stock))
    if query.price_min is not None:
        statement = statement.where(Facts.best_price >= query.price_min)
    if query.price_max is not None:
        statement = statement.where(Facts.best_price <= query.price_max)
    for key, value in query.attributes:
        statement = statement.where(Facts.attributes[key].astext == value)
    return statement


def sort_keys(hits: Any, sort: SortOrder) -> list[ColumnElement[Any]]:
    """ORDER BY for a sort order; the material code breaks ties so pages are stable."""
    first: dict[SortOrder, list[ColumnElement[Any]]] = {
        SortOrder.RELEVANCE: [hits.c.score.desc()],
        SortOrder.PRICE: [hits.c.best_price.asc().nulls_last()],
        SortOrder.PRICE_DESC: [hits.c.best_price.desc().nulls_last()],
        SortOrder.LEAD_TIME: [hits.c.lead_time_days.asc().nulls_last()],
        SortOrder.CODE: [],
    }
    return [*first[sort], hits.c.code.asc()]


def price_bucket(price: Any) -> ColumnElement[int]:
    """The price facet's bucket, as ``query.price_bucket`` numbers it. Compared as double precision: the
    bounds are whole numbers and prices have 4 decimals, so no price changes sides, and it is cheaper
    per hit than numeric."""
    return func.width_bucket(cast(price, Float), literal([float(bound) for bound in PRICE_BOUNDS], ARRAY(Float)))


def as_text(column: Any) -> ColumnElement[str]:
    return cast(column, String)
