"""Text normalization and tokens for catalogue search and duplicate detection, in Chinese and English.

``normalize_text`` makes spelling variants equal: NFKC (full-width "ＳＳ３０４" → "SS304"), case folding,
one kind of dash, and one dimension separator ("M8×30", "M8*30", "m8 X 30" → "m8x30").

``segment`` splits normalized text into words: runs of Han characters go through jieba (with the trade
words of ``data/synonyms.json`` added to its dictionary), everything else is split on spaces and
punctuation but keeps codes whole ("m8x30", "8.8", "a2-70", "gb/t", "45#").

``search_tokens`` adds the finer parts a buyer may type (深沟球轴承 → 深沟, 轴承, 球轴承; m8x30 → m8, 30).
Feed them to PostgreSQL as lexemes, e.g. ``array_to_tsvector(:tokens)`` (config ``simple``), not through
``to_tsvector``: its parser would split "a2-70" and "8.8" differently from here.

Synonyms come in groups of equal terms plus one-way implications ("SS304 implies stainless steel"):
``expand_query_tokens`` widens a query by equal terms and by narrower terms, so a search for 不锈钢 finds
SS304 parts but a search for SS304 does not return SS316 ones.
"""

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jieba

_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63]")
# "×", "x", "*" between two numbers (spaces allowed) separate dimensions: M8×30, 3 x 95, 1200*1000.
_DIMENSION_SEPARATOR = re.compile(r"(?<=[0-9])\s*[x×✕*]\s*(?=[0-9])")
_SPACES = re.compile(r"\s+")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")
# A code-like word: letters/digits, joined by single inner . / + - #, and an optional trailing "#" (45#).
_WORD = re.compile(r"[^\W_]+(?:[./+#-][^\W_]+)*#?")
_DIMENSION_TOKEN = re.compile(r"[^\W_]*[0-9](?:x[0-9][^\W_]*)+")
_MAX_PHRASE = 4


def normalize_text(text: str) -> str:
    """The comparable form of a name or query: NFKC, case folded, unified dashes and dimension separators."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = _DASHES.sub("-", folded)
    folded = _DIMENSION_SEPARATOR.sub("x", folded)
    return _SPACES.sub(" ", folded).strip()


@dataclass(frozen=True)
class SynonymTable:
    """Equal-term groups (by key), the key of each term, and which groups are kinds of which."""

    terms: dict[str, tuple[tuple[str, ...], ...]]
    group_of: dict[tuple[str, ...], str]
    broader: dict[str, frozenset[str]]

    def narrower_closure(self, key: str) -> set[str]:
        """The group itself and every group that (transitively) implies it."""
        found, frontier = {key}, [key]
        while frontier:
            current = frontier.pop()
            for child, parents in self.broader.items():
                if current in parents and child not in found:
                    found.add(child)
                    frontier.append(child)
        return found


def _synonym_document() -> dict[str, Any]:
    text = resources.files("catalog.data").joinpath("synonyms.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@cache
def _tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer with the trade words added; its dictionary loads on first use (~1 s)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    document = _synonym_document()
    han_terms = [term for group in document["groups"] for term in group["terms"] if _HAN_RUN.fullmatch(term)]
    for word in [*document["words"], *han_terms]:
        tokenizer.add_word(normalize_text(word))
    return tokenizer


def _han_words(run: str) -> list[str]:
    return [word for word in _tokenizer().lcut(run) if word.strip()]


def segment(text: str) -> list[str]:
    """Words of a name or query after normalization, e.g. 不锈钢六角螺栓M8x30 → 不锈钢, 六角, 螺栓, m8x30."""
    words: list[str] = []
    for chunk in _HAN_RUN.split(normalize_text(text)):
        if _HAN_RUN.fullmatch(chunk):
            words += _han_words(chunk)
        else:
            words += _WORD.findall(chunk)
    return words


def _finer_parts(word: str) -> list[str]:
    if _HAN_RUN.fullmatch(word):
        return [part for part in _tokenizer().cut_for_search(word) if part != word] if len(word) > 2 else []
    if _DIMENSION_TOKEN.fullmatch(word):
        return word.split("x")
    return []


def search_tokens(text: str) -> list[str]:
    """Lexemes for a ``simple`` tsvector: the words of ``segment`` plus their finer parts, without repeats."""
    tokens: dict[str, None] = {}
    for word in segment(text):
        tokens[word] = None
        tokens.update(dict.fromkeys(_finer_parts(word)))
    return list(tokens)


@cache
def synonym_table() -> SynonymTable:
    """The synonym groups of ``data/synonyms.json``, each term segmented like the text it must match."""
    document = _synonym_document()
    terms = {
        group["key"]: tuple(tuple(segment(term)) for term in group["terms"]) for group in document["groups"]
    }
    group_of = {term: key for key, group_terms in terms.items() for term in group_terms}
    broader: dict[str, set[str]] = {}
    for specific, general in document["implies"]:
        broader.setdefault(specific, set()).add(general)
    return SynonymTable(terms, group_of, {key: frozenset(value) for key, value in broader.items()})


def _phrases(tokens: Sequence[str]) -> Iterable[tuple[str, ...]]:
    for start in range(len(tokens)):
        for length in range(1, _MAX_PHRASE + 1):
            if start + length <= len(tokens):
                yield tuple(tokens[start:start + length])


def expand_query_tokens(tokens: Iterable[str]) -> set[str]:
    """The query tokens plus the equal and the narrower terms of every synonym phrase among them.

    A multi-word term comes back as one string with spaces ("stainless steel"): search it as a phrase.
    """
    query = list(tokens)
    table = synonym_table()
    expanded = set(query)
    for phrase in _phrases(query):
        key = table.group_of.get(phrase)
        if key is None:
            continue
        for related in table.narrower_closure(key):
            expanded.update(" ".join(term) for term in table.terms[related])
    return expanded


def canonical_tokens(tokens: Sequence[str]) -> list[str]:
    """Tokens with each synonym phrase replaced by its group key (longest match first), for comparing names."""
    table = synonym_table()
    canonical: list[str] = []
    position = 0
    while position < len(tokens):
        for length in range(min(_MAX_PHRASE, len(tokens) - position), 0, -1):
            key = table.group_of.get(tuple(tokens[position:position + length]))
            if key is not None:
                canonical.append(f"~{key}")
                position += length
                break
        else:
            canonical.append(tokens[position])
            position += 1
    return canonical
