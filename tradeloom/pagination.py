"""Opaque keyset cursors: the last row's sort key, base64url-encoded. A tampered cursor is a 422."""

import base64
import binascii
import json
from typing import Annotated, Any

from fastapi import Query

from tradeloom.errors import Invalid


def encode_cursor(*sort_key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(sort_key, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise Invalid("The cursor is not one this API returned.", code="cursor_invalid") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise Invalid("The cursor is not one this API returned.", code="cursor_invalid")
    return values


PageSize = Annotated[int, Query(ge=1, le=500, description="items per page")]
Cursor = Annotated[str | None, Query(max_length=500, description="next_cursor from the previous page")]
