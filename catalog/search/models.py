"""Search-side tables and indexes: per-material offer facts for facets and sorting, the word
vocabulary and trigram indexes for fuzzy matches.

``material_search_facts`` holds what search filters, facets and sorts on besides the text: the lowest public
offer price, suppliers, stock and lead time of each searchable material. It is derived data, rebuilt from the
offers by the indexing job; only public offer data goes in (offers, tiers and stock are readable by every
member), never a private price list. A row exists exactly for the materials that search may return.

The trigram indexes belong to the catalogue tables but are declared here, next to the queries that need them.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models import Material, SupplierOffer
from tradeloom.db import Base, utcnow

# Search reads every GIN index far more often than it writes: no pending list that each search must scan
# (migration 0100; docs/search.md "Performance").
NO_PENDING_LIST = {"fastupdate": "off"}
TRIGRAM_INDEXES = (
    Index("ix_materials_name_zh_trgm", Material.name_zh, postgresql_using="gin", postgresql_with=NO_PENDING_LIST,
          postgresql_ops={"name_zh": "gin_trgm_ops"}),
    Index("ix_materials_name_en_trgm", Material.name_en, postgresql_using="gin", postgresql_with=NO_PENDING_LIST,
          postgresql_ops={"name_en": "gin_trgm_ops"}),
    Index("ix_materials_code_trgm", Material.code, postgresql_using="gin", postgresql_with=NO_PENDING_LIST,
          postgresql_ops={"code": "gin_trgm_ops"}),
    Index("ix_supplier_offers_supplier_part_number_trgm", SupplierOffer.supplier_part_number,
          postgresql_using="gin", postgresql_ops={"supplier_part_number": "gin_trgm_ops"}),
)


class SearchWord(Base):
    """Every plain word (letters only) that indexing has seen in names: the vocabulary that typos are corrected to.

    Correcting a query word against a few thousand known words (trigram index) and then searching the
    corrected words in full text is far cheaper than comparing the query with 100,000 names.
    """

    __tablename__ = "search_words"
    __table_args__ = (Index("ix_search_words_word_trgm", "word", postgresql_using="gin",
                            postgresql_with=NO_PENDING_LIST, postgresql_ops={"word": "gin_trgm_ops"}),)

    word: Mapped[str] = mapped_column(String(100), primary_key=True)


class MaterialSearchFacts(Base):
    """What search knows about one searchable material's public offers (prices in ``currency`` only)."""

    __tablename__ = "material_search_facts"
    __table_args__ = (
        Index("ix_material_search_facts_supplier_ids", "supplier_ids", postgresql_using="gin",
              postgresql_with=NO_PENDING_LIST),
        Index("ix_material_search_facts_class_code", "class_code"),
        Index("ix_material_search_facts_lexemes", "lexemes", postgresql_using="gin",
              postgresql_with=NO_PENDING_LIST),
    )

    material_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(24))  # copied from the material: sorting and facets read one table
    class_code: Mapped[str] = mapped_column(String(8))
    attributes: Mapped[dict[str, Any]]
    currency: Mapped[str] = mapped_column(String(3))
    best_price: Mapped[Decimal | None]
    supplier_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)))
    offer_count: Mapped[int]
    in_stock: Mapped[bool]
    lead_time_days: Mapped[int | None]
    lexemes: Mapped[str | None] = mapped_column(TSVECTOR)  # = materials.search_vector, beside the facet columns
    indexed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
