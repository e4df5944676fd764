"""What a catalogue search asks for, and how its text becomes terms (pure: no I/O, shared by both backends).

A query's words are grouped: each group is one word of the query, or one synonym phrase of it, with its
alternatives (the equal and the narrower terms: 不锈钢 → stainless steel, ss304, ss316 …). A material
matches when every group has at least one alternative among its lexemes; an alternative of several words
("stainless steel") needs all of them. The last plain ASCII word may be a prefix, for type-ahead.
"""

import functools
import html
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from catalog.normalize import normalize_text, segment, synonym_table
from tradeloom.errors import Invalid

MAX_QUERY_CHARS = 200
MAX_GROUPS = 12
MAX_OFFSET = 10_000
CATALOGUE_CURRENCY = "CNY"  # prices compare in one currency; offers in others count for suppliers and stock
PRICE_BOUNDS = (Decimal(1), Decimal(10), Decimal(100), Decimal(1000), Decimal(10000))
_MAX_PHRASE = 4
_PREFIXABLE = re.compile(r"[a-z][a-z0-9]+")
# Control characters have no place in a query, except the group separator (FNC1) a GS1 scanner sends.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1c\x1e\x1f\x7f]")


class SortOrder(StrEnum):
    RELEVANCE = "relevance"
    PRICE = "price"
    PRICE_DESC = "-price"
    LEAD_TIME = "lead_time"
    CODE = "code"


class MatchKind(StrEnum):
    EXACT = "exact"  # material code (or a retired code's successor), GTIN, scan, supplier part number
    TEXT = "text"  # full-text over our own lexemes, with synonyms
    FUZZY = "fuzzy"  # trigram similarity, when the text found nothing (typos)
    ALL = "all"  # no text: browse by filters


@dataclass(frozen=True)
class SearchQuery:
    """A search as the API received it, already validated."""

    text: str = ""
    class_code: str | None = None
    supplier_id: uuid.UUID | None = None
    in_stock: bool | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    attributes: tuple[tuple[str, str], ...] = ()
    sort: SortOrder = SortOrder.RELEVANCE
    offset: int = 0
    limit: int = 20

    def __post_init__(self) -> None:
        if len(self.text) > MAX_QUERY_CHARS:
            raise Invalid(f"The search text is longer than {MAX_QUERY_CHARS} characters.", code="search.query_too_long")
        if _CONTROL.search(self.text):
            raise Invalid("The search text contains control characters.", code="search.query_invalid")
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise Invalid("price_min is above price_max.", code="search.price_range_invalid")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise Invalid(f"Results past the first {MAX_OFFSET} are not served; narrow the search.",
                          code="search.too_deep")


@dataclass(frozen=True)
class TermGroup:
    """One query word or synonym phrase: a material must contain one alternative (each a tuple of words)."""

    alternatives: frozenset[tuple[str, ...]]
    prefix: bool = False


@dataclass(frozen=True)
class TextPlan:
    groups: tuple[TermGroup, ...] = field(default_factory=tuple)

    def highlight_terms(self) -> set[str]:
        return {word for group in self.groups for alternative in group.alternatives for word in alternative}


def _synonym_span(words: list[str], start: int) -> tuple[str, ...] | None:
    table = synonym_table()
    for length in range(min(_MAX_PHRASE, len(words) - start), 0, -1):
        span = tuple(words[start:start + length])
        if span in table.group_of:
            return span
    return None


def _alternatives(span: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """The span itself, its equal terms and every narrower term (SS304 for 不锈钢, not the other way)."""
    table = synonym_table()
    related = table.narrower_closure(table.group_of[span])
    return frozenset({span} | {term for key in related for term in table.terms[key]})


def plan_text(text: str) -> TextPlan:
    """Group the words of a query for matching (at most ``MAX_GROUPS`` groups; the rest is ignored)."""
    words = segment(text)
    groups: list[TermGroup] = []
    position = 0
    while position < len(words) and len(groups) < MAX_GROUPS:
        span = _synonym_span(words, position)
        if span is None:
            groups.append(TermGroup(frozenset({(words[position],)})))
            position += 1
        else:
            groups.append(TermGroup(_alternatives(span)))
            position += len(span)
    if groups and len(groups[-1].alternatives) == 1:
        (last,) = groups[-1].alternatives
        if len(last) == 1 and _PREFIXABLE.fullmatch(last[0]) and position == len(words):
            groups[-1] = TermGroup(groups[-1].alternatives, prefix=True)
    return TextPlan(tuple(groups))


@functools.lru_cache(maxsize=256)
def _occurrences(terms: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern finding, at every position, the longest term that starts there (a lookahead, so
    overlapping occurrences are all found); built once per set of query terms, not per name and term."""
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=lambda term: (-len(term), term)))
    return re.compile(f"(?=({alternatives}))")


def highlight(text: str, terms: set[str]) -> str:
    """The text HTML-escaped, with every occurrence of a query term (compared normalized) wrapped in <em>.

    Overlapping or touching occurrences become one <em>. Works on spans, not characters: 20 hits × 2 names
    per search, and a character loop cost ~0.5 ms a name on the shared machine."""
    folded = normalize_text(text)
    pattern = _occurrences(frozenset(term for term in terms if term))
    if len(folded) != len(text) or pattern is None:
        return html.escape(text)  # normalization changed the length: positions would not line up
    spans = [(match.start(), match.start() + len(match.group(1))) for match in pattern.finditer(folded)]
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts += [html.escape(text[position:start]), "<em>", html.escape(text[start:end]), "</em>"]
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def price_bucket_label(bucket: int) -> str:
    """Bucket numbers as PostgreSQL's width_bucket gives them: 0 below the first bound, len(bounds) above the last."""
    bounds = [f"{bound:f}" for bound in PRICE_BOUNDS]
    if bucket == 0:
        return f"<{bounds[0]}"
    if bucket >= len(bounds):
        return f"≥{bounds[-1]}"
    return f"{bounds[bucket - 1]}–{bounds[bucket]}"


def price_bucket(price: Decimal) -> int:
    """The bucket of a price, the same numbering as width_bucket (for the OpenSearch documents)."""
    return sum(1 for bound in PRICE_BOUNDS if price >= bound)
