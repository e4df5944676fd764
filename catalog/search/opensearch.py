"""OpenSearch backend, selected by ``TRADELOOM_SEARCH_URL``, through the official ``opensearch-py`` client.

Documents carry our own lexemes as whitespace-separated text analyzed by a whitespace tokenizer only, so
Chinese is segmented by jieba here exactly as for PostgreSQL and the engine never re-splits "a2-70".
Exact identifiers are resolved in PostgreSQL (see ``catalogue``); text, filters, facets (aggregations),
sorting and paging run in the index. The client is synchronous and runs in a worker thread.
"""

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

from opensearchpy import OpenSearch, helpers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import MaterialClass
from catalog.search import catalogue
from catalog.search.backend import SearchHit, SearchResult
from catalog.search.documents import MaterialDocument, load_documents
from catalog.search.identifiers import identify
from catalog.search.query import (
    CATALOGUE_CURRENCY,
    MatchKind,
    SearchQuery,
    SortOrder,
    TermGroup,
    TextPlan,
    highlight,
    plan_text,
    price_bucket,
)

_KEYWORD = {"type": "keyword"}
MAPPING: dict[str, Any] = {
    "settings": {"analysis": {"analyzer": {"lexemes": {"type": "custom", "tokenizer": "whitespace"}}}},
    "mappings": {"properties": {
        "code": _KEYWORD, "class_code": _KEYWORD, "supplier_ids": _KEYWORD, "attributes": _KEYWORD,
        "name_zh": {"type": "keyword", "index": False}, "name_en": {"type": "keyword", "index": False},
        "class_name_zh": {"type": "keyword", "index": False}, "class_name_en": {"type": "keyword", "index": False},
        "names": {"type": "text", "analyzer": "lexemes"}, "context": {"type": "text", "analyzer": "lexemes"},
        "best_price": {"type": "double"}, "best_price_exact": {"type": "keyword", "index": False},
        "price_bucket": {"type": "integer"}, "in_stock": {"type": "boolean"},
        "offer_count": {"type": "integer"}, "supplier_count": {"type": "integer"},
        "lead_time_days": {"type": "integer"},
    }},
}
_SORTS: dict[SortOrder, list[Any]] = {
    SortOrder.RELEVANCE: [{"_score": "desc"}],
    SortOrder.PRICE: [{"best_price": {"order": "asc", "missing": "_last"}}],
    SortOrder.PRICE_DESC: [{"best_price": {"order": "desc", "missing": "_last"}}],
    SortOrder.LEAD_TIME: [{"lead_time_days": {"order": "asc", "missing": "_last"}}],
    SortOrder.CODE: [],
}
SUPPLIER_FACET_SIZE = 20


@lru_cache
def client_for(url: str) -> OpenSearch:
    """One client (with its connection pool) per URL for the process."""
    return OpenSearch(hosts=[url], timeout=10)


def document_body(document: MaterialDocument) -> dict[str, Any]:
    offers = document.offers
    return {
        "code": document.code, "name_zh": document.name_zh, "name_en": document.name_en,
        "class_code": document.class_code, "class_name_zh": document.class_names[0] if document.class_names else "",
        "class_name_en": document.class_names[1] if len(document.class_names) > 1 else "",
        "names": " ".join(document.name_tokens()), "context": " ".join(document.context_tokens()),
        "attributes": document.attribute_pairs(), "supplier_ids": [str(s) for s in offers.supplier_ids],
        "supplier_count": len(offers.supplier_ids), "offer_count": offers.offer_count,
        "best_price": float(offers.best_price) if offers.best_price is not None else None,
        "best_price_exact": str(offers.best_price) if offers.best_price is not None else None,
        "price_bucket": price_bucket(offers.best_price) if offers.best_price is not None else None,
        "in_stock": offers.in_stock, "lead_time_days": offers.lead_time_days,
    }


def _word_query(word: str, prefix: bool) -> dict[str, Any]:
    if prefix:
        return {"bool": {"should": [{"prefix": {"names": word}}, {"prefix": {"context": word}}]}}
    return {"multi_match": {"query": word, "fields": ["names^3", "context"]}}


def _group_query(group: TermGroup) -> dict[str, Any]:
    alternatives = [{"bool": {"must": [_word_query(word, group.prefix) for word in alternative]}}
                    for alternative in sorted(group.alternatives)]
    return {"bool": {"should": alternatives, "minimum_should_match": 1}}


def text_query(plan: TextPlan) -> dict[str, Any]:
    return {"bool": {"must": [_group_query(group) for group in plan.groups]}}


def fuzzy_query(plan: TextPlan) -> dict[str, Any]:
    words = sorted({word for group in plan.groups for alternative in group.alternatives for word in alternative})
    return {"bool": {"should": [{"fuzzy": {"names": {"value": word, "fuzziness": "AUTO"}}} for word in words],
                     "minimum_should_match": 1}}


class OpenSearchBackend:
    """Search in an OpenSearch index; the session reads the catalogue for indexing and exact lookups."""

    def __init__(self, session: AsyncSession, client: OpenSearch, *, index: str) -> None:
        self.session, self.client, self.index = session, client, index

    def ensure_index(self) -> None:
        if not self.client.indices.exists(index=self.index):
            self.client.indices.create(index=self.index, body=MAPPING)

    async def index_materials(self, material_ids: Sequence[uuid.UUID]) -> int:
        documents, gone = await load_documents(self.session, material_ids)
        actions = [{"_op_type": "index", "_index": self.index, "_id": str(d.material_id), "_source": document_body(d)}
                   for d in documents]
        actions += [{"_op_type": "delete", "_index": self.index, "_id": str(material_id)} for material_id in gone]
        await asyncio.to_thread(self._bulk, actions)
        return len(documents)

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        self.ensure_index()
        helpers.bulk(self.client, actions, raise_on_error=False, refresh="wait_for")

    async def remove(self, material_ids: Sequence[uuid.UUID]) -> None:
        actions = [{"_op_type": "delete", "_index": self.index, "_id": str(i)} for i in material_ids]
        await asyncio.to_thread(self._bulk, actions)

    async def search(self, query: SearchQuery) -> SearchResult:
        plan = plan_text(query.text)
        classes = await catalogue.class_filter(self.session, query.class_code)
        codes, keys = classes.codes, classes.attribute_keys
        exact = await catalogue.exact_ids(self.session, identify(query.text))
        if exact:
            return await self._run({"ids": {"values": [str(i) for i in exact]}}, query, codes, keys, plan,
                                   MatchKind.EXACT)
        if not plan.groups:
            return await self._run({"match_all": {}}, query, codes, keys, plan, MatchKind.ALL)
        result = await self._run(text_query(plan), query, codes, keys, plan, MatchKind.TEXT)
        if result.total == 0:
            result = await self._run(fuzzy_query(plan), query, codes, keys, plan, MatchKind.FUZZY)
        return result

    async def _run(self, matched: dict[str, Any], query: SearchQuery, codes: list[str] | None, keys: list[str],
                   plan: TextPlan, kind: MatchKind) -> SearchResult:
        body = {
            "query": {"bool": {"must": [matched], "filter": _filters(query, codes)}},
            "track_total_hits": True, "from": query.offset, "size": query.limit,
            "sort": [*_SORTS[query.sort], {"code": "asc"}],
            "aggs": {
                "class": {"terms": {"field": "class_code", "size": 100}},
                "supplier": {"terms": {"field": "supplier_ids", "size": SUPPLIER_FACET_SIZE}},
                "price": {"terms": {"field": "price_bucket", "size": 10}},
                "in_stock": {"terms": {"field": "in_stock", "size": 2}},
                "attributes": {"terms": {"field": "attributes", "size": 1000}},
            },
        }
        response = await asyncio.to_thread(self._search, body)
        total = response["hits"]["total"]["value"]
        counts = _facet_counts(response["aggregations"], keys)
        facets = await catalogue.label_facets(self.session, counts, keys)
        hits = await self._hits(response["hits"]["hits"], plan)
        more = query.offset + query.limit < total
        return SearchResult(hits=hits, total=total, facets=facets, match=kind,
                            next_offset=query.offset + query.limit if more else None)

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        self.ensure_index()
        response: dict[str, Any] = self.client.search(index=self.index, body=body)
        return response

    async def _hits(self, raw: list[dict[str, Any]], plan: TextPlan) -> list[SearchHit]:
        terms = plan.highlight_terms()
        class_codes = {hit["_source"]["class_code"] for hit in raw}
        names = {code: (zh, en) for code, zh, en in (await self.session.execute(
            select(MaterialClass.code, MaterialClass.name_zh, MaterialClass.name_en)
            .where(MaterialClass.code.in_(class_codes)))).all()}
        return [_hit(item, names, terms) for item in raw]


def _hit(item: dict[str, Any], class_names: dict[str, tuple[str, str]], terms: set[str]) -> SearchHit:
    source = item["_source"]
    price = source.get("best_price_exact")
    zh, en = class_names.get(source["class_code"], (source["class_name_zh"], source["class_name_en"]))
    return SearchHit(
        material_id=uuid.UUID(item["_id"]), code=source["code"], name_zh=source["name_zh"],
        name_en=source["name_en"], class_code=source["class_code"], class_name_zh=zh, class_name_en=en,
        best_price=Decimal(price) if price is not None else None, currency=CATALOGUE_CURRENCY,
        price_source="offer" if price is not None else None, supplier_count=source["supplier_count"],
        in_stock=source["in_stock"], lead_time_days=source.get("lead_time_days"),
        highlight={"name_zh": highlight(source["name_zh"], terms), "name_en": highlight(source["name_en"], terms)},
    )


def _filters(query: SearchQuery, codes: list[str] | None) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = []
    if codes is not None:
        filters.append({"terms": {"class_code": codes}})
    if query.supplier_id is not None:
        filters.append({"term": {"supplier_ids": str(query.supplier_id)}})
    if query.in_stock is not None:
        filters.append({"term": {"in_stock": query.in_stock}})
    price: dict[str, float] = {}
    if query.price_min is not None:
        price["gte"] = float(query.price_min)
    if query.price_max is not None:
        price["lte"] = float(query.price_max)
    if price:
        filters.append({"range": {"best_price": price}})
    filters += [{"term": {"attributes": f"{key}={value}"}} for key, value in query.attributes]
    return filters


def _facet_counts(aggregations: dict[str, Any], keys: list[str]) -> catalogue.FacetCounts:
    counts: catalogue.FacetCounts = {
        "class": [(b["key"], b["doc_count"]) for b in aggregations["class"]["buckets"]],
        "supplier": [(b["key"], b["doc_count"]) for b in aggregations["supplier"]["buckets"]],
        "price": [(str(b["key"]), b["doc_count"]) for b in aggregations["price"]["buckets"]],
        "in_stock": [(b.get("key_as_string", str(b["key"])).lower(), b["doc_count"])
                     for b in aggregations["in_stock"]["buckets"]],
    }
    for bucket in aggregations["attributes"]["buckets"]:
        key, _, value = bucket["key"].partition("=")
        if key in keys:
            counts.setdefault(f"attr:{key}", []).append((value, bucket["doc_count"]))
    return counts
