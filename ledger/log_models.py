"""Tables of the sequenced log: tree nodes, signed checkpoints, sequencer state, and the public leaf view.

These are platform-wide, not tenant rows: the app role may only read them; the sequencer (owner) writes.
Level 0 of the tree is not copied here: it is ``evidence_entries.leaf_hash``, published for sequenced
entries by the ``ledger_leaves`` view (see docs/decisions/0003-evidence-log.md).
"""

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tradeloom.db import Base, utcnow


class TreeNode(Base):
    """The hash of the perfect subtree ``(level, index)``, level >= 1; written once, never changed."""

    __tablename__ = "ledger_tree_nodes"
    __table_args__ = (CheckConstraint("level > 0", name="above_leaves"),)

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary)


class SignedCheckpoint(Base):
    """Every checkpoint the log ever signed (its history), one per tree size."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class SequencerState(Base):
    """The one row the sequencer continues from: tree size and frontier (perfect-subtree hashes, largest first)."""

    __tablename__ = "ledger_sequencer_state"
    __table_args__ = (CheckConstraint("singleton", name="one_row"),)

    singleton: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[list[bytes]] = mapped_column(ARRAY(LargeBinary))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


VIEWS = MetaData()
"""Views are kept out of ``Base.metadata``: autogenerate would take them for missing tables."""

ledger_leaves = Table(
    "ledger_leaves", VIEWS,
    Column("leaf_index", BigInteger, primary_key=True),
    Column("entry_id", BigInteger),
    Column("kind", String(64)),
    Column("subject", String(200)),
    Column("entry_data", LargeBinary),
    Column("leaf_hash", LargeBinary),
)
"""Sequenced entries, readable by anyone: the log is public once an entry has a leaf index."""
