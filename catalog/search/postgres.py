"""PostgreSQL backend (the default): lexemes in ``materials.search_vector``, facts in ``material_search_facts``.

Text goes through our own segmentation (jieba for Chinese, folding for English) and reaches PostgreSQL as
ready-made lexemes (``array_to_tsvector``), so Chinese works without a PostgreSQL parser for it. Weights:
A for the names, B for class names and attribute values.
"""

import re
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, MaterialClass
from catalog.normalize import segment
from catalog.search import catalogue, pg_sql
from catalog.search.backend import SearchHit, SearchResult
from catalog.search.documents import MaterialDocument, load_documents
from catalog.search.identifiers import identify
from catalog.search.models import MaterialSearchFacts as Facts
from catalog.search.models import SearchWord
from catalog.search.query import (
    CATALOGUE_CURRENCY,
    MatchKind,
    SearchQuery,
    SortOrder,
    TextPlan,
    highlight,
    plan_text,
)
from tradeloom.identity.models import Organization

SUPPLIER_FACET_SIZE = 20
CORRECTABLE_WORD = re.compile(r"[a-z]{3,40}")  # codes and Chinese are not spell-corrected
# Plain UPDATE (not the ORM): indexing must not bump the material's version or updated_at.
_SET_VECTOR = text(
    "UPDATE materials SET search_vector = setweight(array_to_tsvector(CAST(:names AS text[])), 'A')"
    " || setweight(array_to_tsvector(CAST(:context AS text[])), 'B') WHERE id = :id"
)
# The search path reads the lexemes next to the facet columns: one table, one GIN index, no join (see
# docs/search.md for the EXPLAIN figures); materials.search_vector stays the catalogue's own copy. They go in
# with the facts row itself (one row version, not an insert then an update leaving a dead tuple behind).


def _weighted(words: str, weight: str) -> ColumnElement[Any]:
    return func.setweight(func.array_to_tsvector(bindparam(words, type_=ARRAY(String))), literal_column(f"'{weight}'"))


_LEXEMES = _weighted("names", "A").op("||")(_weighted("context", "B"))
_CLEAR_VECTOR = text("UPDATE materials SET search_vector = NULL WHERE id = ANY(:ids) AND search_vector IS NOT NULL")


class PostgresSearch:
    """The PostgreSQL backend on one session (the caller's transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def index_materials(self, material_ids: Sequence[uuid.UUID]) -> int:
        documents, gone = await load_documents(self.session, material_ids)
        if documents:
            tokens = [(d, d.name_tokens(), d.context_tokens()) for d in documents]
            await self.session.execute(_SET_VECTOR, [
                {"id": d.material_id, "names": names, "context": context} for d, names, context in tokens
            ])
            await self._store_facts(tokens)
            await self._store_words({token for _, names, context in tokens for token in [*names, *context]})
        if gone:
            await self.remove(list(gone))
        return len(documents)

    async def _store_facts(self, tokens: list[tuple[MaterialDocument, list[str], list[str]]]) -> None:
        rows = [
            {"material_id": d.material_id, "code": d.code, "class_code": d.class_code, "attributes": d.attributes,
             "currency": CATALOGUE_CURRENCY,
             "best_price": d.offers.best_price, "supplier_ids": list(d.offers.supplier_ids),
             "offer_count": d.offers.offer_count, "in_stock": d.offers.in_stock,
             "lead_time_days": d.offers.lead_time_days, "names": names, "context": context}
            for d, names, context in tokens
        ]
        statement = insert(Facts).values(lexemes=_LEXEMES)
        updated = {column: statement.excluded[column] for column in [*rows[0], "lexemes"]
                   if column not in ("material_id", "names", "context")}
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[Facts.material_id], set_={**updated, "indexed_at": func.now()}), rows)

    async def _store_words(self, tokens: set[str]) -> None:
        words = sorted(token for token in tokens if CORRECTABLE_WORD.fullmatch(token))
        if words:
            await self.session.execute(insert(SearchWord).on_conflict_do_nothing(), [{"word": w} for w in words])

    async def remove(self, material_ids: Sequence[uuid.UUID]) -> None:
        ids = list(material_ids)
        await self.session.execute(_CLEAR_VECTOR, {"ids": ids})
        await self.session.execute(delete(Facts).where(Facts.material_id.in_(ids)))

    async def search(self, query: SearchQuery) -> SearchResult:
        plan = plan_text(query.text)
        classes = await catalogue.class_filter(self.session, query.class_code)
        exact = await catalogue.exact_ids(self.session, identify(query.text))
        if exact:
            hits = pg_sql.matched_hits(pg_sql.id_matches(exact))
            return await self._run(hits, query, classes, plan, MatchKind.EXACT)
        if not plan.groups:
            return await self._run(pg_sql.all_hits(), query, classes, plan, MatchKind.ALL)
        ranked = query.sort is SortOrder.RELEVANCE
        result = await self._run(pg_sql.text_hits(plan, ranked=ranked), query, classes, plan, MatchKind.TEXT)
        if result.total == 0 and (corrected := await self._corrected(query.text)) is not None:
            corrected_hits = pg_sql.text_hits(corrected, ranked=ranked)
            result = await self._run(corrected_hits, query, classes, corrected, MatchKind.FUZZY)
        if result.total == 0:
            similar = pg_sql.matched_hits(pg_sql.similar_matches(query.text.strip()))
            result = await self._run(similar, query, classes, plan, MatchKind.FUZZY)
        return result

    async def _corrected(self, text: str) -> TextPlan | None:
        """The query with each unknown plain word replaced by the closest known word; None if nothing changed.

        One query for all words: a known word is its own closest word (similarity 1)."""
        words = segment(text)
        correctable = sorted({word for word in words if CORRECTABLE_WORD.fullmatch(word)})
        closest: dict[str, str | None] = {}
        if correctable:
            closest.update((await self.session.execute(pg_sql.closest_words(correctable))).all())
        corrected = [closest.get(word) or word for word in words]
        return plan_text(" ".join(corrected)) if corrected != words else None

    async def _run(self, found: Select[Any], query: SearchQuery, classes: catalogue.ClassFilter,
                   plan: TextPlan, kind: MatchKind) -> SearchResult:
        statement = pg_sql.filtered(found, query, classes.codes)
        if not classes.attribute_keys:  # the attributes are only counted for a class's attribute facets
            statement = statement.with_only_columns(
                *[column for column in statement.selected_columns if column.key != "attributes"])
        hits = statement.cte("hits").prefix_with("MATERIALIZED")
        counts, details = await self._aggregate(hits, query, classes.attribute_keys)
        total = counts.pop("total", [("", 0)])[0][1]
        page = [value for value, _ in sorted(counts.pop("page", []), key=lambda item: item[1])]
        names = {value: (detail[0], detail[1]) for (facet, value), detail in details.items() if facet != "page"}
        facets = await catalogue.label_facets(self.session, counts, classes.attribute_keys, names=names)
        more = query.offset + query.limit < total
        terms = plan.highlight_terms()
        return SearchResult(hits=[_hit(value, details["page", value], terms) for value in page], total=total,
                            facets=facets, match=kind, next_offset=query.offset + query.limit if more else None)

    async def _aggregate(self, hits: Any, query: SearchQuery, attribute_keys: list[str]
                         ) -> tuple[catalogue.FacetCounts, dict[tuple[str, str], Any]]:
        """Total, every facet with its names and the page's hits, in one statement over the materialized hits.

        Rows are (facet, value, count, detail): a class or supplier facet's detail is its [zh, en] names, a
        page row's (count = rank) the hit itself. One round trip for the whole search result."""
        # The page is a top-N sort under LIMIT; its rows are numbered after (a window over all the hits
        # would sort every hit in full).
        ordered = (select(hits).order_by(*pg_sql.sort_keys(hits, query.sort)).offset(query.offset)
                   .limit(query.limit).subquery("ordered"))
        rank = func.row_number().over(order_by=pg_sql.sort_keys(ordered, query.sort))
        page = select(ordered, rank.label("rank")).subquery()
        # unnest in the select list (one ProjectSet), not a lateral function scan per hit
        supplier = select(func.unnest(hits.c.supplier_ids).label("supplier_id")).subquery("supplier")
        top_suppliers = (select(supplier.c.supplier_id, func.count().label("n"))
                         .group_by(supplier.c.supplier_id).order_by(func.count().desc()).limit(SUPPLIER_FACET_SIZE)
                         .subquery())
        by_class = select(hits.c.class_code, func.count().label("n")).group_by(hits.c.class_code).subquery()
        bucket = pg_sql.price_bucket(hits.c.best_price)
        nothing = null().cast(JSONB)
        parts = [
            select(literal("total"), literal(""), func.count(), nothing).select_from(hits),
            select(literal("class"), by_class.c.class_code, by_class.c.n, _names_of(MaterialClass))
            .join(MaterialClass, MaterialClass.code == by_class.c.class_code, isouter=True),
            select(literal("in_stock"), pg_sql.as_text(hits.c.in_stock), func.count(), nothing)
            .group_by(hits.c.in_stock),
            select(literal("price"), pg_sql.as_text(bucket), func.count(), nothing)
            .where(hits.c.best_price.is_not(None)).group_by(bucket),
            select(literal("supplier"), pg_sql.as_text(top_suppliers.c.supplier_id), top_suppliers.c.n,
                   _names_of(Organization))
            .join(Organization, Organization.id == top_suppliers.c.supplier_id, isouter=True),
            select(literal("page"), pg_sql.as_text(page.c.material_id), page.c.rank, _page_detail(page))
            .join(Material, Material.id == page.c.material_id)
            .join(MaterialClass, MaterialClass.code == page.c.class_code),
        ] + [
            select(literal(f"attr:{key}"), hits.c.attributes[key].astext, func.count(), nothing)
            .where(hits.c.attributes[key].astext.is_not(None)).group_by(literal_column("2"))
            for key in attribute_keys
        ]
        counts: dict[str, list[tuple[str, int]]] = {}
        details: dict[tuple[str, str], Any] = {}
        rows = cast(list[tuple[str, str, int, Any]], (await self.session.execute(union_all(*parts))).all())
        for facet, value, count, detail in rows:
            counts.setdefault(facet, []).append((value, count))
            if detail is not None:
                details[facet, value] = detail
        return counts, details


def _names_of(table: type[MaterialClass] | type[Organization]) -> ColumnElement[Any]:
    return func.jsonb_build_array(table.name_zh, table.name_en)


def _page_detail(page: Any) -> ColumnElement[Any]:
    """What a hit shows, as one JSON object (the price as text: JSON numbers are floats in Python)."""
    return func.jsonb_build_object(
        "code", page.c.code, "name_zh", Material.name_zh, "name_en", Material.name_en,
        "class_code", page.c.class_code, "class_zh", MaterialClass.name_zh, "class_en", MaterialClass.name_en,
        "best_price", pg_sql.as_text(page.c.best_price), "supplier_count", func.cardinality(page.c.supplier_ids),
        "in_stock", page.c.in_stock, "lead_time_days", page.c.lead_time_days,
    )


def _hit(material_id: str, detail: dict[str, Any], terms: set[str]) -> SearchHit:
    price = detail["best_price"]
    return SearchHit(
        material_id=uuid.UUID(material_id), code=detail["code"], name_zh=detail["name_zh"],
        name_en=detail["name_en"], class_code=detail["class_code"], class_name_zh=detail["class_zh"],
        class_name_en=detail["class_en"], best_price=None if price is None else Decimal(price),
        currency=CATALOGUE_CURRENCY, price_source=None if price is None else "offer",
        supplier_count=detail["supplier_count"], in_stock=detail["in_stock"],
        lead_time_days=detail["lead_time_days"],
        highlight={"name_zh": highlight(detail["name_zh"], terms), "name_en": highlight(detail["name_en"], terms)},
    )
