"""RQ entry points of the Fabric backend."""

import logging
from contextlib import closing
from typing import Any

from ledger.anchoring import anchor_backend
from ledger.checkpoint import CheckpointError, parse_checkpoint_body, split_note
from tradeloom.settings import get_settings

log = logging.getLogger(__name__)


class InvalidCheckpointEvent(Exception):
    """The event does not carry a well-formed checkpoint whose note matches its fields."""


def _checkpoint_fields(payload: dict[str, Any]) -> tuple[str, int, bytes, str]:
    try:
        origin, tree_size, note = payload["origin"], int(payload["tree_size"]), payload["note"]
        root_hash = bytes.fromhex(payload["root_hash"])
        checkpoint = parse_checkpoint_body(split_note(note)[0])
    except (KeyError, TypeError, ValueError, CheckpointError) as error:
        raise InvalidCheckpointEvent(f"not a checkpoint event: {error!r}") from error
    if (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash) != (origin, tree_size, root_hash):
        raise InvalidCheckpointEvent(f"the note is not the checkpoint of {origin} at size {tree_size}")
    return origin, tree_size, root_hash, note


def anchor_checkpoint(event: dict[str, Any]) -> dict[str, Any]:
    """Anchor the checkpoint of a ``ledger.checkpoint_signed`` outbox event (idempotent; safe to retry).

    The event is the outbox message; its ``payload`` holds ``origin``, ``tree_size``, ``root_hash`` (hex)
    and ``note`` (the signed checkpoint). Returns the receipt as a dict (kept as the RQ job's result).
    """
    origin, tree_size, root_hash, note = _checkpoint_fields(event.get("payload") or {})
    with closing(anchor_backend(get_settings())) as anchor:
        receipt = anchor.anchor(origin, tree_size, root_hash, note)
    log.info("ledger: checkpoint anchored", extra={"origin": origin, "tree_size": tree_size, **receipt.as_dict()})
    return receipt.as_dict()
